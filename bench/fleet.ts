import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "./lib/args.js";
import { isSkipped, openBackend, type BackendName } from "./lib/backends.js";
import { startChild, type Child } from "./lib/child.js";
import { WEBCHAT_DEVICES } from "./lib/dataset.js";
import { round } from "./lib/measure.js";
import { atLeast, log, printTable, printTargets, type TargetCheck } from "./lib/report.js";
import type { LoadPlan, LoadResult } from "./load-client.js";

/**
 * Several gateway processes on one shared store (issue 15): admission throughput of paired webchat devices spread
 * over 1, 2 and 3 instances of the full gateway (bench/gateway-server.ts), on Redis and PostgreSQL. On a two-core
 * machine more processes cannot add CPU; the point is that sharing the store does not make the gateway slower.
 */
export interface FleetRun {
  store: string;
  instances: number;
  messagesPerSec: number;
  p50Us: number;
  p99Us: number;
  errors: number;
}

export interface FleetBenchResult {
  settings: { clients: number; warmupMs: number; durationMs: number; pairedDevices: number };
  runs: FleetRun[];
  /** messages/s with 3 instances ÷ with 1, per store. */
  ratios: Record<string, number | null>;
  skipped: Record<string, string>;
  targets: TargetCheck[];
}

const FLEET_STORES: readonly BackendName[] = ["redis", "postgres"];
const SIZES = [1, 2, 3] as const;
/** "Does not fall": 3 instances keep at least this share of one instance's throughput on the same machine. */
const KEEPS = 0.8;

export async function runFleetBench(options: {
  quick: boolean;
  backends?: readonly BackendName[];
}): Promise<FleetBenchResult> {
  const settings = options.quick
    ? { clients: 24, warmupMs: 500, durationMs: 1_500, pairedDevices: 1_000 }
    : { clients: 48, warmupMs: 1_000, durationMs: 4_000, pairedDevices: 10_000 };
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
    try {
      await opened.seed(0, settings.pairedDevices, WEBCHAT_DEVICES);
      const step = Math.max(1, Math.floor(settings.pairedDevices / settings.clients));
      const devices = Array.from({ length: settings.clients }, (_, i) =>
        WEBCHAT_DEVICES.idOf((i * step) % settings.pairedDevices),
      );
      for (const instances of SIZES) {
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
          const client = await startChild<LoadResult>(
            "load-client.ts",
            [JSON.stringify(plan)],
            [],
            plan.warmupMs + plan.durationMs + 60_000,
          );
          await client.stop();
          const { messagesPerSec, p50Us, p99Us, errors } = client.first;
          runs.push({ store, instances, messagesPerSec, p50Us, p99Us, errors });
          log(
            `fleet: ${store} x${instances}: ${messagesPerSec} msg/s, p50 ${p50Us} us, p99 ${p99Us} us, errors ${errors}`,
          );
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }
      }
    } finally {
      await opened.dispose();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }
  const ratios: Record<string, number | null> = {};
  const targets: TargetCheck[] = [];
  for (const store of FLEET_STORES.filter((name) => (options.backends ?? FLEET_STORES).includes(name))) {
    const one = runs.find((r) => r.store === store && r.instances === 1)?.messagesPerSec;
    const three = runs.find((r) => r.store === store && r.instances === 3)?.messagesPerSec;
    ratios[store] = one && three ? round(three / one, 3) : null;
    targets.push(
      atLeast(
        `issue 15: ${store} fleet of 3 / 1 instance`,
        ratios[store],
        KEEPS,
        "x",
        skipped[store] ? `skipped: ${skipped[store]}` : "admission throughput does not fall with more instances",
      ),
    );
  }
  const result: FleetBenchResult = { settings, runs, ratios, skipped, targets };
  printTable(
    `fleet: ${settings.clients} paired webchat devices spread over the instances, one message in flight each`,
    ["store", "instances", "msg/s", "p50 us", "p99 us", "errors"],
    runs.map((r) => [r.store, r.instances, r.messagesPerSec, r.p50Us, r.p99Us, r.errors]),
  );
  printTargets(targets);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  process.stdout.write(`${JSON.stringify({ fleet: await runFleetBench(args) }, null, 2)}\n`);
}
