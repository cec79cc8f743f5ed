import { performance } from "node:perf_hooks";
import type { PairingStore } from "../../src/stores/types.js";
import type { BackendName, BenchBackend } from "./backends.js";
import { BENCH_CHANNEL_TYPE, indexStream, pairedId, sessionOf } from "./dataset.js";
import { cpuMicros, LatencyRecorder, measureConcurrent, measureSerial, type Figure, type Limits } from "./measure.js";
import { log } from "./report.js";

/**
 * The store operations the store benchmark times at one size, on a seeded backend. Its own module (types only from
 * src/) so that bench/ab-stores.ts can run the same measurement against another checkout's stores.
 */
export const STORE_OPS = ["isPaired", "lookup", "generateCode", "approve", "revoke", "listPending"] as const;
export type StoreOp = (typeof STORE_OPS)[number];

/** What one size yields: every operation, and for the networked stores isPaired with 1, 16 and 64 callers at once. */
export interface SizeFigures {
  ops: Record<StoreOp, Figure>;
  isPairedConcurrent?: Record<string, Figure>;
}

export const CONCURRENCY = [1, 16, 64];
/** Pending entries per channel type the default rules allow; generate/approve cycles stay under it. */
const PENDING_CAP = 20;
const NETWORKED: ReadonlySet<BackendName> = new Set(["redis", "postgres", "mariadb"]);

export interface Budget {
  read: Limits;
  concurrent: Limits;
  write: Limits;
  list: Limits;
}

export function budgetFor(quick: boolean): Budget {
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

export async function benchSize(backend: BenchBackend, size: number, budget: Budget): Promise<SizeFigures> {
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
 * the rate is per second spent inside that kind of call, and the CPU share that of this process during those calls.
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
  /** One call, timed (wall and CPU) into `recorder` when `measured`. */
  const timed = async <T>(recorder: LatencyRecorder, measured: boolean, call: () => Promise<T>): Promise<T> => {
    const cpu = process.cpuUsage();
    const began = performance.now();
    const result = await call();
    if (measured) recorder.record(performance.now() - began, cpuMicros(cpu));
    return result;
  };
  const cycle = async (count: number, measured: boolean): Promise<void> => {
    const batch: { id: string; code: string }[] = [];
    for (let j = 0; j < count; j++) {
      const id = `${tag}-new-${next++}`;
      batch.push({ id, code: await timed(generate, measured, () => pairing.generateCode(BENCH_CHANNEL_TYPE, id)) });
    }
    for (const { id, code } of batch) {
      if (!(await timed(approve, measured, () => pairing.approve(BENCH_CHANNEL_TYPE, code))))
        throw new Error("bench: approve of a fresh request code returned false");
      approved.push(id);
    }
  };
  await cycle(PENDING_CAP, false);
  const start = performance.now();
  while (!generate.full && performance.now() - start < limits.maxMs) {
    await cycle(Math.min(PENDING_CAP, limits.maxOps - generate.size), true);
  }
  for (const [index, id] of approved.entries()) {
    if (!(await timed(revoke, index >= PENDING_CAP, () => pairing.revoke(id, BENCH_CHANNEL_TYPE))))
      throw new Error("bench: revoke of a fresh pairing returned false");
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
