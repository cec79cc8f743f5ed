import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { PairingStore } from "../src/stores/types.js";
import { parseArgs } from "./lib/args.js";
import { BACKENDS, type BackendName, type BenchBackend } from "./lib/backends.js";
import { acrossSizes } from "./lib/grow.js";
import { BENCH_CHANNEL_TYPE, indexStream, pairedId, sessionOf } from "./lib/dataset.js";
import { LatencyRecorder, measureConcurrent, measureSerial, round, type Figure, type Limits } from "./lib/measure.js";
import {
  atLeast,
  atMost,
  backendRows,
  FIGURE_HEADER,
  figureCells,
  log,
  printTable,
  printTargets,
  type TargetCheck,
} from "./lib/report.js";

export interface StoreBenchOptions {
  quick: boolean;
  backends?: readonly BackendName[];
}

export const STORE_OPS = ["isPaired", "lookup", "generateCode", "approve", "revoke", "listPending"] as const;
export type StoreOp = (typeof STORE_OPS)[number];

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

const CONCURRENCY = [1, 16, 64];
/** Pending entries per channel type the default rules allow; generate/approve cycles stay under it. */
const PENDING_CAP = 20;
const NETWORKED: ReadonlySet<BackendName> = new Set(["redis", "postgres", "mariadb"]);

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

interface Budget {
  read: Limits;
  concurrent: Limits;
  write: Limits;
  list: Limits;
}

function budgetFor(quick: boolean): Budget {
  return quick
    ? {
        read: { maxOps: 500_000, maxMs: 200 },
        concurrent: { maxOps: 200_000, maxMs: 200 },
        write: { maxOps: 100, maxMs: 300 },
        list: { maxOps: 50_000, maxMs: 100 },
      }
    : {
        read: { maxOps: 3_000_000, maxMs: 1_000 },
        concurrent: { maxOps: 1_000_000, maxMs: 1_000 },
        write: { maxOps: 2_000, maxMs: 2_000 },
        list: { maxOps: 200_000, maxMs: 500 },
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

async function benchSize(
  backend: BenchBackend,
  size: number,
  budget: Budget,
): Promise<Pick<StoreSizeResult, "ops" | "isPairedConcurrent">> {
  const { pairing, sessions } = backend.stores;
  const pick = indexStream(size);
  const isPaired = async (): Promise<void> => {
    if (!(await pairing.isPaired(pairedId(pick()), BENCH_CHANNEL_TYPE)))
      throw new Error("bench: isPaired missed a seeded sender");
  };
  const lookup = async (): Promise<void> => {
    if ((await sessions.lookup(sessionOf(pick()))) === null) throw new Error("bench: lookup missed a seeded session");
  };
  const isPairedFigure = await measureSerial(isPaired, budget.read);
  const lookupFigure = await measureSerial(lookup, budget.read);
  let isPairedConcurrent: Record<string, Figure> | undefined;
  if (NETWORKED.has(backend.name)) {
    isPairedConcurrent = {};
    for (const callers of CONCURRENCY)
      isPairedConcurrent[String(callers)] = await measureConcurrent(isPaired, callers, budget.concurrent);
  }
  const writes = await writeCycles(pairing, budget.write, `s${size}`);
  const listPending = await listPendingFigure(pairing, budget.list, `s${size}`);
  const ops: Record<StoreOp, Figure> = { isPaired: isPairedFigure, lookup: lookupFigure, ...writes, listPending };
  log(
    `stores: ${backend.name} @ ${size.toLocaleString("en-US")}: isPaired ${isPairedFigure.opsPerSec} ops/s, approve ${writes.approve.opsPerSec} ops/s`,
  );
  return isPairedConcurrent ? { ops, isPairedConcurrent } : { ops };
}

/**
 * The pairing life cycle under the default cap: up to 20 new senders ask (generateCode), the owner approves each, and at
 * the end every new pairing is revoked again, so the paired count is back where it was. Each call is timed on its own;
 * the rate is per second spent inside that kind of call.
 */
async function writeCycles(
  pairing: PairingStore,
  limits: Limits,
  tag: string,
): Promise<Record<"generateCode" | "approve" | "revoke", Figure>> {
  const generate = new LatencyRecorder(limits.maxOps);
  const approve = new LatencyRecorder(limits.maxOps);
  const revoke = new LatencyRecorder(limits.maxOps);
  const approved: string[] = [];
  let next = 0;
  const cycle = async (count: number, measured: boolean): Promise<void> => {
    const batch: { id: string; code: string }[] = [];
    for (let j = 0; j < count; j++) {
      const id = `${tag}-new-${next++}`;
      const began = performance.now();
      const code = await pairing.generateCode(BENCH_CHANNEL_TYPE, id);
      if (measured) generate.record(performance.now() - began);
      batch.push({ id, code });
    }
    for (const { id, code } of batch) {
      const began = performance.now();
      const ok = await pairing.approve(BENCH_CHANNEL_TYPE, code);
      if (measured) approve.record(performance.now() - began);
      if (!ok) throw new Error("bench: approve of a fresh request code returned false");
      approved.push(id);
    }
  };
  await cycle(PENDING_CAP, false);
  const start = performance.now();
  while (!generate.full && performance.now() - start < limits.maxMs) {
    await cycle(Math.min(PENDING_CAP, limits.maxOps - generate.size), true);
  }
  for (const [index, id] of approved.entries()) {
    const began = performance.now();
    const ok = await pairing.revoke(id, BENCH_CHANNEL_TYPE);
    if (index >= PENDING_CAP) revoke.record(performance.now() - began);
    if (!ok) throw new Error("bench: revoke of a fresh pairing returned false");
  }
  return { generateCode: generate.figure(), approve: approve.figure(), revoke: revoke.figure() };
}

/** listPending of the channel type with the cap's worth (20) of live requests, then those requests are revoked. */
async function listPendingFigure(pairing: PairingStore, limits: Limits, tag: string): Promise<Figure> {
  const ids = Array.from({ length: PENDING_CAP }, (_, j) => `${tag}-pending-${j}`);
  for (const id of ids) await pairing.generateCode(BENCH_CHANNEL_TYPE, id);
  try {
    return await measureSerial(async () => {
      const pending = await pairing.listPending(BENCH_CHANNEL_TYPE);
      if (pending.length !== PENDING_CAP)
        throw new Error(`bench: listPending returned ${pending.length}, expected ${PENDING_CAP}`);
    }, limits);
  } finally {
    for (const id of ids) await pairing.revoke(id, BENCH_CHANNEL_TYPE);
  }
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
