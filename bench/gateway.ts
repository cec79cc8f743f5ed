import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "./lib/args.js";
import { isSkipped, openBackend, type BackendName } from "./lib/backends.js";
import { processCpuMs, startChild } from "./lib/child.js";
import { WEBCHAT_DEVICES } from "./lib/dataset.js";
import { round } from "./lib/measure.js";
import { atLeast, log, printTable, printTargets, type TargetCheck } from "./lib/report.js";
import type { LoadPlan, LoadResult } from "./load-client.js";
import { summarise, type ProfileRow } from "./profile-summary.js";

export interface GatewayBenchOptions {
  quick: boolean;
  backends?: readonly BackendName[];
  /** Also run the SQLite gateway once more under `node --cpu-prof` and summarise where its CPU went (default: full runs). */
  profile?: boolean;
}

export type GatewayRun = LoadResult & {
  target: string;
  /** Which cycle of the interleaved measurement this window belongs to (1-based). */
  cycle: number;
  paired?: number;
  /**
   * Server CPU time per answered message (µs), from the server process's /proc stat over the load run: unlike
   * messages/s it does not depend on how much CPU the machine had to spare.
   */
  serverCpuUsPerMessage: number | null;
};

export interface ProfileSummary {
  target: string;
  file: string;
  totalMs: number;
  top: ProfileRow[];
  byFile: ProfileRow[];
}

export interface GatewayBenchResult {
  settings: Settings & { message: string };
  /** Every measuring window, in the order run. */
  runs: GatewayRun[];
  /** Median messages/s of the bare `ws` echo windows: the ceiling on this machine. */
  bareMessagesPerSec: number | null;
  /** Per store: the median over the cycles of (its messages/s ÷ the bare server's messages/s in the same cycle). */
  ratios: Record<string, number | null>;
  /**
   * Per store: the median over the cycles of (bare server CPU per message ÷ gatehouse server CPU per message): the
   * throughput ratio a server with a core of its own would reach, independent of other load on the machine.
   */
  cpuRatios: Record<string, number | null>;
  skipped: Record<string, string>;
  profile?: ProfileSummary;
  targets: TargetCheck[];
}

const GATEWAY_STORES: readonly BackendName[] = ["sqlite", "redis"];
const RATIO_TARGETS: Record<string, number> = { sqlite: 0.6, redis: 0.5 };
const PROFILE_DIR = fileURLToPath(new URL("./results/profiles/", import.meta.url));

interface Settings {
  clients: number;
  /** Rounds in which every server is driven once (bare, then each store; every other cycle in reverse order). */
  cycles: number;
  warmupMs: number;
  durationMs: number;
  pairedDevices: number;
}

function settingsFor(quick: boolean): Settings {
  return quick
    ? { clients: 32, cycles: 2, warmupMs: 300, durationMs: 1_000, pairedDevices: 1_000 }
    : { clients: 64, cycles: 8, warmupMs: 500, durationMs: 2_500, pairedDevices: 10_000 };
}

/** The median of some figures, or null when there are none. */
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The bare server's window of one cycle: what that cycle's gatehouse windows are compared with. */
function bareWindow(runs: readonly GatewayRun[], cycle: number): GatewayRun | undefined {
  return runs.find((run) => run.mode === "bare" && run.cycle === cycle);
}

/** A server under test, up for the whole measurement, driven by the load generator one window at a time. */
interface Target {
  label: string;
  mode: LoadPlan["mode"];
  url: string;
  pid: number | undefined;
  devices?: string[];
  paired?: number;
  stop(): Promise<void>;
}

/** Runs the load generator against a server child; the server's CPU time is read around the run. */
async function drive(
  plan: LoadPlan,
  serverPid: number | undefined,
): Promise<LoadResult & { serverCpuUsPerMessage: number | null }> {
  const cpuBefore = processCpuMs(serverPid);
  const client = await startChild<LoadResult>(
    "load-client.ts",
    [JSON.stringify(plan)],
    [],
    plan.warmupMs + plan.durationMs + 60_000,
  );
  const cpuAfter = processCpuMs(serverPid);
  await client.stop();
  const result = client.first;
  const serverCpuUsPerMessage =
    cpuBefore !== null && cpuAfter !== null && result.answeredTotal > 0
      ? round(((cpuAfter - cpuBefore) * 1000) / result.answeredTotal, 1)
      : null;
  return { ...result, serverCpuUsPerMessage };
}

async function startBare(): Promise<Target> {
  const server = await startChild<{ url: string }>("bare-echo-server.ts", []);
  return {
    label: "bare-ws",
    mode: "bare",
    url: server.first.url,
    pid: server.process.pid,
    stop: async () => void (await server.stop()),
  };
}

/** One store: seed paired webchat devices and start the gateway on it in its own process; stop() also drops the data. */
async function startGatehouse(
  store: BackendName,
  settings: Settings,
  nodeFlags: string[] = [],
): Promise<Target | { skipped: string }> {
  const opened = await openBackend(store);
  if (isSkipped(opened)) return opened;
  const dataDir = mkdtempSync(join(tmpdir(), "gh-bench-gw-"));
  const dispose = async (): Promise<void> => {
    await opened.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await opened.seed(0, settings.pairedDevices, WEBCHAT_DEVICES);
    const step = Math.max(1, Math.floor(settings.pairedDevices / settings.clients));
    const devices = Array.from({ length: settings.clients }, (_, i) =>
      WEBCHAT_DEVICES.idOf((i * step) % settings.pairedDevices),
    );
    const server = await startChild<{ url: string }>(
      "gateway-server.ts",
      [opened.url, opened.secret.toString("hex"), dataDir],
      nodeFlags,
    );
    return {
      label: `gatehouse+${store}`,
      mode: "gatehouse",
      url: server.first.url,
      pid: server.process.pid,
      devices,
      paired: settings.pairedDevices,
      stop: async () => {
        try {
          await server.stop();
        } finally {
          await dispose();
        }
      },
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** One measuring window on a target that is up. */
async function measure(target: Target, settings: Settings, cycle: number, durationMs = settings.durationMs) {
  const plan: LoadPlan = {
    url: target.url,
    mode: target.mode,
    clients: settings.clients,
    warmupMs: settings.warmupMs,
    durationMs,
    ...(target.devices ? { devices: target.devices } : {}),
  };
  const result = await drive(plan, target.pid);
  log(
    `gateway: ${cycle === 0 ? "warm-up" : `cycle ${cycle}`} ${target.label}: ${result.messagesPerSec} msg/s, p50 ${result.p50Us} us, p99 ${result.p99Us} us, server ${result.serverCpuUsPerMessage ?? "?"} us/msg, errors ${result.errors}`,
  );
  const run: GatewayRun = { target: target.label, cycle, ...result };
  return target.paired !== undefined ? { ...run, paired: target.paired } : run;
}

/** The SQLite gateway once more under --cpu-prof; its main-thread profile summarised by self time. */
async function profileGateway(settings: Settings): Promise<ProfileSummary | undefined> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const dir = mkdtempSync(join(PROFILE_DIR, "gateway-sqlite-"));
  const target = await startGatehouse("sqlite", settings, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  if ("skipped" in target) return undefined;
  try {
    await measure(target, settings, 0, 4_000);
  } finally {
    await target.stop();
  }
  // --cpu-prof writes one profile per thread; the main thread's is the largest.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f));
  const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!main) return undefined;
  const summary = summarise(JSON.parse(readFileSync(main, "utf8")), 20);
  return {
    target: "gatehouse+sqlite",
    file: relative(process.cwd(), main),
    totalMs: summary.total,
    top: summary.rows,
    byFile: summary.byFile,
  };
}

export async function runGatewayBench(options: GatewayBenchOptions): Promise<GatewayBenchResult> {
  const settings = settingsFor(options.quick);
  const stores = GATEWAY_STORES.filter((name) => (options.backends ?? GATEWAY_STORES).includes(name));
  const runs: GatewayRun[] = [];
  const skipped: Record<string, string> = {};
  // Every server is up for the whole measurement and the load generator drives one at a time in short windows, cycle
  // after cycle (every other cycle in reverse order). The machine's speed drifts over minutes on shared cores, so each
  // store is compared with the bare server of its own cycle, and the median of those ratios is the figure: a slow
  // minute moves a cycle, not the result. An idle server costs next to nothing meanwhile.
  const servers: Target[] = [await startBare()];
  try {
    for (const store of stores) {
      const started = await startGatehouse(store, settings);
      if ("skipped" in started) {
        skipped[store] = started.skipped;
        log(`gateway: ${store} skipped (${started.skipped})`);
      } else servers.push(started);
    }
    // One window per server first, not counted: the JIT and every connection warm before the first cycle.
    for (const server of servers) await measure(server, settings, 0);
    for (let cycle = 1; cycle <= settings.cycles; cycle++) {
      for (const target of cycle % 2 === 1 ? servers : [...servers].reverse())
        runs.push(await measure(target, settings, cycle));
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const windows = (label: string): GatewayRun[] => runs.filter((run) => run.target === label);
  const bare = windows("bare-ws");
  const ratios: Record<string, number | null> = {};
  const cpuRatios: Record<string, number | null> = {};
  for (const store of stores) {
    const own = windows(`gatehouse+${store}`);
    const perCycle = own.flatMap((run) => {
      const ceiling = bareWindow(runs, run.cycle);
      return ceiling && ceiling.messagesPerSec > 0 ? [run.messagesPerSec / ceiling.messagesPerSec] : [];
    });
    const cpuPerCycle = own.flatMap((run) => {
      const ceiling = bareWindow(runs, run.cycle)?.serverCpuUsPerMessage;
      return ceiling && run.serverCpuUsPerMessage ? [ceiling / run.serverCpuUsPerMessage] : [];
    });
    const ratio = median(perCycle);
    const cpuRatio = median(cpuPerCycle);
    ratios[store] = ratio === null ? null : round(ratio, 3);
    cpuRatios[store] = cpuRatio === null ? null : round(cpuRatio, 3);
  }
  const bareMedian = median(bare.map((run) => run.messagesPerSec));
  const bareMessagesPerSec = bareMedian === null ? null : round(bareMedian, 0);
  const profile = (options.profile ?? !options.quick) ? await profileGateway(settings) : undefined;
  const targets = stores.map((store) =>
    atLeast(
      `issue 7: gateway+${store} / bare ws`,
      ratios[store],
      RATIO_TARGETS[store] ?? 0,
      "x",
      skipped[store] ? `skipped: ${skipped[store]}` : `by server CPU per message: ${cpuRatios[store] ?? "n/a"}`,
    ),
  );
  const result: GatewayBenchResult = {
    settings: { ...settings, message: "hello" },
    runs,
    bareMessagesPerSec,
    ratios,
    cpuRatios,
    skipped,
    ...(profile ? { profile } : {}),
    targets,
  };
  printGatewayTables(result);
  return result;
}

function printGatewayTables(result: GatewayBenchResult): void {
  printTable(
    `gateway: ${result.settings.clients} WebSocket clients, one message in flight each, ${result.settings.cycles} interleaved cycles (round trips in microseconds)`,
    ["cycle", "target", "msg/s", "p50 us", "p99 us", "errors", "vs bare", "server cpu us/msg", "client cpu"],
    result.runs.map((run) => {
      const ceiling = bareWindow(result.runs, run.cycle)?.messagesPerSec;
      return [
        run.cycle,
        run.target,
        run.messagesPerSec,
        run.p50Us,
        run.p99Us,
        run.errors,
        run.mode === "bare" || !ceiling ? "-" : round(run.messagesPerSec / ceiling, 3),
        run.serverCpuUsPerMessage ?? "-",
        run.clientCpuShare,
      ];
    }),
  );
  printTable(
    "gateway: medians over the cycles",
    ["store", "ratio to bare (same cycle)", "by server cpu"],
    Object.keys(result.ratios).map((store) => [store, result.ratios[store] ?? "-", result.cpuRatios[store] ?? "-"]),
  );
  if (result.profile) {
    printTable(
      `gateway profile (${result.profile.target}, self time, ${result.profile.totalMs} ms sampled)`,
      ["function", "self ms", "%"],
      result.profile.top.slice(0, 12).map((row) => [row.name, row.selfMs, row.percent]),
    );
    printTable(
      "gateway profile by file or package",
      ["file or package", "self ms", "%"],
      result.profile.byFile.slice(0, 12).map((row) => [row.name, row.selfMs, row.percent]),
    );
  }
  printTargets(result.targets);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  const result = await runGatewayBench(args);
  process.stdout.write(`${JSON.stringify({ gateway: result }, null, 2)}\n`);
}
