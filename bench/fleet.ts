import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "./lib/args.js";
import { isSkipped, openBackend, type BackendName } from "./lib/backends.js";
import { processCpuMs, startChild, type Child } from "./lib/child.js";
import { WEBCHAT_DEVICES } from "./lib/dataset.js";
import { round } from "./lib/measure.js";
import { atLeast, log, printTable, printTargets, type TargetCheck } from "./lib/report.js";
import { storeCpu } from "./lib/store-cpu.js";
import type { LoadPlan, LoadResult } from "./load-client.js";

/**
 * Several gateway processes on one shared store (issue 15): admission throughput of paired webchat devices spread
 * over 1, 2 and 3 instances of the full gateway (bench/gateway-server.ts), on Redis and PostgreSQL. On a two-core
 * machine more processes cannot add CPU; the point is that sharing the store does not make the gateway slower, so the
 * target is judged on messages/s, 3 instances against 1. The machine is shared and messages/s moves with whatever else
 * runs, so full runs measure the sizes in four passes (1, 2, 3, then 3, 2, 1, and again) and take each size's mean: a
 * drift in the machine's load weighs on every size alike. The CPU the gateways and the store's server spent per message is
 * reported too (messages per CPU-second): it shows what more processes cost, with fewer messages to batch each.
 */
export interface FleetRun {
  store: string;
  instances: number;
  messagesPerSec: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  /** CPU time of all the gateway processes per answered message of the measured load (its short warm-up included), µs. */
  gatewayCpuUsPerMessage: number | null;
  /** CPU time of the store's server for them per answered message, µs (see lib/store-cpu.ts). */
  storeCpuUsPerMessage: number | null;
  /** Answered messages per second of gateway + store CPU: the throughput with other load on the machine factored out. */
  messagesPerCpuSec: number | null;
  /** The machine's one-minute load average when the row ended (2 cores). */
  load: number;
  /** Which pass over the sizes this row comes from (full runs: 1 to 4, every other one in reverse order). */
  pass: number;
}

export interface FleetBenchResult {
  settings: { clients: number; warmupMs: number; durationMs: number; pairedDevices: number };
  runs: FleetRun[];
  /** Mean messages/s with 3 instances ÷ mean with 1, per store: what the target judges. */
  ratios: Record<string, number | null>;
  /** Mean messages per CPU-second with 3 instances ÷ with 1, per store. */
  cpuRatios: Record<string, number | null>;
  skipped: Record<string, string>;
  targets: TargetCheck[];
}

const FLEET_STORES: readonly BackendName[] = ["redis", "postgres"];
const SIZES = [1, 2, 3] as const;
/**
 * Passes over the sizes in a full run (1, 2, 3, then 3, 2, 1, and again): each size's figure is the mean of its rows,
 * so a drift in the shared machine's speed, which moves single rows by a fifth or more here, weighs on every size alike.
 */
const FULL_PASSES = 4;
/** "Does not fall": 3 instances keep at least this share of one instance's throughput on the same machine. */
const KEEPS = 0.8;

export async function runFleetBench(options: {
  quick: boolean;
  backends?: readonly BackendName[];
}): Promise<FleetBenchResult> {
  const settings = options.quick
    ? { clients: 24, warmupMs: 500, durationMs: 1_500, pairedDevices: 1_000 }
    : { clients: 48, warmupMs: 1_000, durationMs: 3_000, pairedDevices: 10_000 };
  const runs: FleetRun[] = [];
  const skipped: Record<string, string> = {};
  for (const store of FLEET_STORES.filter((name) => (options.backends ?? FLEET_STORES).includes(name))) {
    const opened = await openBackend(store);
    if (isSkipped(opened)) {
      skipped[store] = opened.skipped;
      log(`fleet: ${store} skipped (${opened.skipped})`);
      continue;
    }
    const dirs: string[] = [];
    const cpu = await storeCpu(store, opened.url);
    try {
      await opened.seed(0, settings.pairedDevices, WEBCHAT_DEVICES);
      const step = Math.max(1, Math.floor(settings.pairedDevices / settings.clients));
      const devices = Array.from({ length: settings.clients }, (_, i) =>
        WEBCHAT_DEVICES.idOf((i * step) % settings.pairedDevices),
      );
      const passes = options.quick ? 1 : FULL_PASSES;
      const order = Array.from({ length: passes }, (_, p) => (p % 2 === 0 ? [...SIZES] : [...SIZES].reverse())).flat();
      for (const [index, instances] of order.entries()) {
        const pass = Math.floor(index / SIZES.length) + 1;
        const servers: Array<Child<{ url: string }>> = [];
        try {
          for (let i = 0; i < instances; i++) {
            const dir = mkdtempSync(join(tmpdir(), "gh-bench-fleet-"));
            dirs.push(dir);
            servers.push(
              await startChild<{ url: string }>("gateway-server.ts", [opened.url, opened.secret.toString("hex"), dir]),
            );
          }
          const urls = servers.map((s) => s.first.url);
          const plan: LoadPlan = {
            url: urls[0] as string,
            urls,
            mode: "gatehouse",
            clients: settings.clients,
            warmupMs: settings.warmupMs,
            durationMs: settings.durationMs,
            devices,
          };
          // Each instance warms up (JIT, connections, caches) as long as one instance alone does: a load of its own,
          // the warm-up times the instances, before the measured load, whose CPU alone is counted.
          const warmup = await startChild<LoadResult>(
            "load-client.ts",
            [JSON.stringify({ ...plan, warmupMs: 0, durationMs: settings.warmupMs * instances })],
            [],
            settings.warmupMs * instances + 60_000,
          );
          await warmup.stop();
          const gatewaysBefore = servers.map((s) => processCpuMs(s.process.pid));
          const storeBefore = await cpu.mark();
          const client = await startChild<LoadResult>(
            "load-client.ts",
            [JSON.stringify(plan)],
            [],
            plan.warmupMs + plan.durationMs + 60_000,
          );
          await client.stop();
          const storeMs = await cpu.since(storeBefore);
          const gatewayMs = servers.reduce<number | null>((sum, s, i) => {
            const after = processCpuMs(s.process.pid);
            const before = gatewaysBefore[i];
            return sum === null || after === null || before === null || before === undefined
              ? null
              : sum + after - before;
          }, 0);
          const { messagesPerSec, p50Us, p99Us, errors, answeredTotal } = client.first;
          const perMessage = (ms: number | null): number | null =>
            ms === null || answeredTotal === 0 ? null : round((ms * 1000) / answeredTotal, 1);
          const cpuMs = gatewayMs === null || storeMs === null ? null : gatewayMs + storeMs;
          const run: FleetRun = {
            store,
            instances,
            messagesPerSec,
            p50Us,
            p99Us,
            errors,
            gatewayCpuUsPerMessage: perMessage(gatewayMs),
            storeCpuUsPerMessage: perMessage(storeMs),
            messagesPerCpuSec: cpuMs ? round((answeredTotal * 1000) / cpuMs) : null,
            load: round(loadavg()[0] ?? 0, 1),
            pass,
          };
          runs.push(run);
          log(
            `fleet: ${store} x${instances} (pass ${pass}): ${messagesPerSec} msg/s, p50 ${p50Us} us, p99 ${p99Us} us, errors ${errors}, ` +
              `cpu/msg gateways ${run.gatewayCpuUsPerMessage ?? "-"} us + store ${run.storeCpuUsPerMessage ?? "-"} us, ` +
              `${run.messagesPerCpuSec ?? "-"} msg per cpu-s, load ${run.load}`,
          );
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }
      }
    } finally {
      await cpu.close();
      await opened.dispose();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }
  const ratios: Record<string, number | null> = {};
  const cpuRatios: Record<string, number | null> = {};
  const targets: TargetCheck[] = [];
  const meanOf = (store: string, instances: number, of: (run: FleetRun) => number | null): number | null => {
    const values = runs
      .filter((r) => r.store === store && r.instances === instances)
      .map(of)
      .filter((v): v is number => v !== null);
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const ratio = (store: string, of: (run: FleetRun) => number | null): number | null => {
    const [a, b] = [meanOf(store, 1, of), meanOf(store, 3, of)];
    return a && b ? round(b / a, 3) : null;
  };
  for (const store of FLEET_STORES.filter((name) => (options.backends ?? FLEET_STORES).includes(name))) {
    ratios[store] = ratio(store, (r) => r.messagesPerSec);
    cpuRatios[store] = ratio(store, (r) => r.messagesPerCpuSec);
    targets.push(
      atLeast(
        `issue 15: ${store} fleet of 3 / 1 instance`,
        ratios[store],
        KEEPS,
        "x",
        skipped[store]
          ? `skipped: ${skipped[store]}`
          : `messages/s do not fall with more instances (messages per CPU-second: ${cpuRatios[store] ?? "n/a"})`,
      ),
    );
  }
  const result: FleetBenchResult = { settings, runs, ratios, cpuRatios, skipped, targets };
  printTable(
    `fleet: ${settings.clients} paired webchat devices spread over the instances, one message in flight each`,
    [
      "store",
      "instances",
      "pass",
      "msg/s",
      "p50 us",
      "p99 us",
      "errors",
      "gw cpu us/msg",
      "store cpu us/msg",
      "msg/cpu-s",
      "load",
    ],
    runs.map((r) => [
      r.store,
      r.instances,
      r.pass,
      r.messagesPerSec,
      r.p50Us,
      r.p99Us,
      r.errors,
      r.gatewayCpuUsPerMessage ?? "-",
      r.storeCpuUsPerMessage ?? "-",
      r.messagesPerCpuSec ?? "-",
      r.load,
    ]),
  );
  printTargets(targets);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  process.stdout.write(`${JSON.stringify({ fleet: await runFleetBench(args) }, null, 2)}\n`);
}
