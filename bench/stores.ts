import { pathToFileURL } from "node:url";
import { parseArgs } from "./lib/args.js";
import { BACKENDS, type BackendName } from "./lib/backends.js";
import { acrossSizes } from "./lib/grow.js";
import { round, type Figure } from "./lib/measure.js";
import { type Budget, benchSize, budgetFor, CONCURRENCY, STORE_OPS, type StoreOp } from "./lib/store-ops.js";
import {
  atLeast,
  atMost,
  backendRows,
  FIGURE_HEADER,
  figureCells,
  printTable,
  printTargets,
  type TargetCheck,
} from "./lib/report.js";

export interface StoreBenchOptions {
  quick: boolean;
  backends?: readonly BackendName[];
}

export interface StoreSizeResult {
  paired: number;
  /** Seconds spent writing the rows/keys that took the store from the previous size to this one. */
  seedSeconds: number;
  ops: Record<StoreOp, Figure>;
  /** Redis/PostgreSQL: isPaired with 1, 16 and 64 callers at once. */
  isPairedConcurrent?: Record<string, Figure>;
}

export type StoreBackendResult = { sizes: StoreSizeResult[] } | { skipped: string };

export interface StoreBenchResult {
  settings: { sizes: Record<BackendName, number[]>; readMs: number; writeOps: number; concurrency: number[] };
  backends: Partial<Record<BackendName, StoreBackendResult>>;
  targets: TargetCheck[];
}

function sizesFor(quick: boolean): Record<BackendName, number[]> {
  if (quick)
    return {
      memory: [1_000, 10_000],
      sqlite: [1_000, 10_000],
      redis: [1_000, 10_000],
      postgres: [1_000, 10_000],
      mariadb: [1_000, 10_000],
    };
  return {
    memory: [1_000, 100_000],
    sqlite: [1_000, 100_000, 1_000_000],
    redis: [1_000, 100_000, 1_000_000],
    postgres: [1_000, 100_000, 1_000_000],
    mariadb: [1_000, 100_000, 1_000_000],
  };
}

/** Runs every store operation on every backend at each size; sizes grow by seeding the difference. */
export async function runStoreBench(options: StoreBenchOptions): Promise<StoreBenchResult> {
  const sizes = sizesFor(options.quick);
  const budget = budgetFor(options.quick);
  const backends: StoreBenchResult["backends"] = {};
  for (const name of options.backends ?? BACKENDS) {
    backends[name] = await benchBackend(name, sizes[name], budget);
  }
  const result: StoreBenchResult = {
    settings: { sizes, readMs: budget.read.maxMs, writeOps: budget.write.maxOps, concurrency: CONCURRENCY },
    backends,
    targets: storeTargets(backends),
  };
  printStoreTables(result);
  return result;
}

async function benchBackend(name: BackendName, sizes: number[], budget: Budget): Promise<StoreBackendResult> {
  return acrossSizes("stores", name, sizes, (backend, size) => benchSize(backend, size, budget));
}

function sizeResults(backends: StoreBenchResult["backends"], name: BackendName): StoreSizeResult[] {
  const result = backends[name];
  return result && "sizes" in result ? result.sizes : [];
}

function storeTargets(backends: StoreBenchResult["backends"]): TargetCheck[] {
  const sqlite = sizeResults(backends, "sqlite");
  const at = (sizes: StoreSizeResult[], paired: number): StoreSizeResult | undefined =>
    sizes.find((s) => s.paired === paired);
  const small = at(sqlite, 1_000);
  const mid = at(sqlite, 100_000);
  const targets: TargetCheck[] = [
    atLeast(
      "issue 2: sqlite isPaired @1k",
      small?.ops.isPaired.opsPerSec,
      300_000,
      "ops/s",
      cpuNote(small?.ops.isPaired),
    ),
    atLeast(
      "issue 2: sqlite isPaired @100k",
      mid?.ops.isPaired.opsPerSec,
      300_000,
      "ops/s",
      cpuNote(mid?.ops.isPaired),
    ),
    atMost(
      "issue 2: sqlite isPaired slowdown 1k->100k",
      ratio(small?.ops.isPaired, mid?.ops.isPaired),
      1.25,
      "x",
      `'flat': rate at 1k / rate at 100k; per CPU-second: ${cpuRatio(small?.ops.isPaired, mid?.ops.isPaired) ?? "n/a"}`,
    ),
    atLeast("issue 2: sqlite approve @100k", mid?.ops.approve.opsPerSec, 10_000, "ops/s"),
  ];
  for (const name of ["sqlite", "redis", "postgres", "mariadb"] as const) {
    const sizes = sizeResults(backends, name);
    const largest = sizes.at(-1);
    if (largest && largest.paired > 1_000) {
      targets.push(
        atMost(
          `issue 7: ${name} isPaired slowdown 1k->${largest.paired.toLocaleString("en-US")}`,
          ratio(at(sizes, 1_000)?.ops.isPaired, largest.ops.isPaired),
          2,
          "x",
          `per CPU-second of the bench process: ${cpuRatio(at(sizes, 1_000)?.ops.isPaired, largest.ops.isPaired) ?? "n/a"}`,
        ),
      );
    }
  }
  const minimum: Partial<Record<BackendName, number>> = { redis: 40_000, postgres: 10_000 };
  for (const name of ["redis", "postgres"] as const) {
    for (const size of sizeResults(backends, name)) {
      const figure = size.isPairedConcurrent?.["64"];
      targets.push(
        atLeast(
          `issue 4: ${name} isPaired x64 callers @${size.paired.toLocaleString("en-US")}`,
          figure?.opsPerSec,
          minimum[name] ?? 0,
          "ops/s",
        ),
      );
    }
    const outcome = backends[name];
    if (outcome && "skipped" in outcome) {
      targets.push(
        atLeast(
          `issue 4: ${name} isPaired x64 callers`,
          null,
          minimum[name] ?? 0,
          "ops/s",
          `skipped: ${outcome.skipped}`,
        ),
      );
    }
  }
  return targets;
}

/** Like ratio(), on operations per CPU-second: for in-process stores it factors out how busy the machine was. */
export function cpuRatio(a: Figure | undefined, b: Figure | undefined): number | null {
  if (!a?.opsPerCpuSec || !b?.opsPerCpuSec) return null;
  return round(a.opsPerCpuSec / b.opsPerCpuSec, 2);
}

/** For an in-process store the wall-clock rate depends on how much CPU the machine gave us; say so next to the target. */
function cpuNote(figure: Figure | undefined): string | undefined {
  if (!figure?.opsPerCpuSec || figure.cpuShare === undefined) return undefined;
  return `${figure.opsPerCpuSec} ops per CPU-second; the process had ${figure.cpuShare} of a core`;
}

/** How many times slower `b` is than `a` (rate a / rate b), or null when either is missing. */
export function ratio(a: Figure | undefined, b: Figure | undefined): number | null {
  if (!a || !b || b.opsPerSec === 0) return null;
  return round(a.opsPerSec / b.opsPerSec, 2);
}

function printStoreTables(result: StoreBenchResult): void {
  const rows = backendRows(result.backends, (name, size: StoreSizeResult) => [
    ...STORE_OPS.map((op) => [name, size.paired, op, ...figureCells(size.ops[op])]),
    ...Object.entries(size.isPairedConcurrent ?? {}).map(([callers, figure]) => [
      name,
      size.paired,
      `isPaired x${callers}`,
      ...figureCells(figure),
    ]),
  ]);
  printTable(
    "stores (rates per second, latencies in microseconds)",
    ["backend", "paired", "op", ...FIGURE_HEADER],
    rows,
  );
  printTargets(result.targets);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  const result = await runStoreBench(args);
  process.stdout.write(`${JSON.stringify({ stores: result }, null, 2)}\n`);
}
