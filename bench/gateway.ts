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
  settings: { clients: number; warmupMs: number; durationMs: number; pairedDevices: number; message: string };
  runs: GatewayRun[];
  /** Mean messages/s of the bare `ws` echo runs: the ceiling on this machine. */
  bareMessagesPerSec: number | null;
  /** Mean gatehouse messages/s of a store's runs ÷ the bare ceiling, per store. */
  ratios: Record<string, number | null>;
  /**
   * bare server CPU per message ÷ gatehouse server CPU per message, per store: the throughput ratio a server with a core
   * of its own would reach, independent of other load on the machine.
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
  warmupMs: number;
  durationMs: number;
  pairedDevices: number;
}

function settingsFor(quick: boolean): Settings {
  return quick
    ? { clients: 32, warmupMs: 500, durationMs: 1_500, pairedDevices: 1_000 }
    : { clients: 64, warmupMs: 1_000, durationMs: 6_000, pairedDevices: 10_000 };
}

/** The mean of some figures, or null when there are none. */
function mean(values: number[]): number | null {
  return values.length > 0 ? round(values.reduce((a, b) => a + b, 0) / values.length, 1) : null;
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

async function runBare(settings: Settings, label: string): Promise<GatewayRun> {
  const server = await startChild<{ url: string }>("bare-echo-server.ts", []);
  try {
    const plan: LoadPlan = {
      url: server.first.url,
      mode: "bare",
      clients: settings.clients,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
    };
    const result = await drive(plan, server.process.pid);
    log(`gateway: ${label}: ${result.messagesPerSec} msg/s, p50 ${result.p50Us} us, p99 ${result.p99Us} us`);
    return { target: label, ...result };
  } finally {
    await server.stop();
  }
}

/** One store: seed paired webchat devices, start the gateway in its own process, drive it, stop it, drop the data. */
async function runGatehouse(
  store: BackendName,
  settings: Settings,
  nodeFlags: string[] = [],
  durationMs = settings.durationMs,
): Promise<GatewayRun | { skipped: string }> {
  const opened = await openBackend(store);
  if (isSkipped(opened)) return opened;
  const dataDir = mkdtempSync(join(tmpdir(), "gh-bench-gw-"));
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
    try {
      const plan: LoadPlan = {
        url: server.first.url,
        mode: "gatehouse",
        clients: settings.clients,
        warmupMs: settings.warmupMs,
        durationMs,
        devices,
      };
      const result = await drive(plan, server.process.pid);
      log(
        `gateway: gatehouse+${store}: ${result.messagesPerSec} msg/s, p50 ${result.p50Us} us, p99 ${result.p99Us} us, errors ${result.errors}`,
      );
      return { target: `gatehouse+${store}`, paired: settings.pairedDevices, ...result };
    } finally {
      await server.stop();
    }
  } finally {
    await opened.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The SQLite gateway once more under --cpu-prof; its main-thread profile summarised by self time. */
async function profileGateway(settings: Settings): Promise<ProfileSummary | undefined> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const dir = mkdtempSync(join(PROFILE_DIR, "gateway-sqlite-"));
  const run = await runGatehouse(
    "sqlite",
    settings,
    ["--cpu-prof", `--cpu-prof-dir=${dir}`],
    Math.min(settings.durationMs, 4_000),
  );
  if ("skipped" in run) return undefined;
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
  // Rounds of bare, then each store, and a last bare run: the ceiling is the mean of the bare runs and each store's figure
  // the mean of its runs, so drift in the machine's load during the run affects both sides alike and one noisy run
  // weighs half as much (full runs: two rounds; quick: one).
  const rounds = options.quick ? 1 : 2;
  for (let round = 1; round <= rounds; round++) {
    runs.push(await runBare(settings, round === 1 ? "bare-ws" : `bare-ws (round ${round})`));
    for (const store of stores) {
      if (skipped[store]) continue;
      const run = await runGatehouse(store, settings);
      if ("skipped" in run) {
        skipped[store] = run.skipped;
        log(`gateway: ${store} skipped (${run.skipped})`);
      } else runs.push(run);
    }
  }
  if (!options.quick) runs.push(await runBare(settings, "bare-ws (last)"));
  const bareRuns = runs.filter((run) => run.mode === "bare");
  const bareMessagesPerSec = mean(bareRuns.map((run) => run.messagesPerSec));
  const bareCpuUsPerMessage = mean(
    bareRuns.flatMap((run) => (run.serverCpuUsPerMessage === null ? [] : [run.serverCpuUsPerMessage])),
  );
  const ratios: Record<string, number | null> = {};
  const cpuRatios: Record<string, number | null> = {};
  for (const store of stores) {
    const own = runs.filter((r) => r.target === `gatehouse+${store}`);
    const messagesPerSec = mean(own.map((run) => run.messagesPerSec));
    const cpuUsPerMessage = mean(
      own.flatMap((run) => (run.serverCpuUsPerMessage === null ? [] : [run.serverCpuUsPerMessage])),
    );
    ratios[store] = messagesPerSec && bareMessagesPerSec ? round(messagesPerSec / bareMessagesPerSec, 3) : null;
    cpuRatios[store] = cpuUsPerMessage && bareCpuUsPerMessage ? round(bareCpuUsPerMessage / cpuUsPerMessage, 3) : null;
  }
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
    `gateway: ${result.settings.clients} WebSocket clients, one message in flight each (round trips in microseconds)`,
    ["target", "msg/s", "p50 us", "p99 us", "errors", "vs bare", "server cpu us/msg", "client cpu"],
    result.runs.map((run) => [
      run.target,
      run.messagesPerSec,
      run.p50Us,
      run.p99Us,
      run.errors,
      run.mode === "bare" || !result.bareMessagesPerSec
        ? "-"
        : round(run.messagesPerSec / result.bareMessagesPerSec, 3),
      run.serverCpuUsPerMessage ?? "-",
      run.clientCpuShare,
    ]),
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
