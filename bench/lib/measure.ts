import { performance } from "node:perf_hooks";

/** One benchmark figure: how many operations ran, their rate, and the latency distribution in microseconds. */
export interface Figure {
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  /**
   * This process's CPU time over the wall-clock time measured (1 = one full core). Below ~0.9 for an in-process store
   * (memory, SQLite) the machine was busy with other work or the store waited on I/O (e.g. fsync).
   */
  cpuShare?: number;
  /** Operations per second of this process's CPU time: the rate with other load on the machine factored out. */
  opsPerCpuSec?: number;
}

/** When a measurement stops: after `maxOps` operations or `maxMs` milliseconds of measuring, whichever comes first. */
export interface Limits {
  maxOps: number;
  maxMs: number;
  /** Unmeasured calls first, for this long, so the JIT, connections and caches are warm (default: min(300, maxMs / 5)). */
  warmupMs?: number;
}

/** Latencies collected into a preallocated buffer, so recording one costs no allocation. */
export class LatencyRecorder {
  private readonly samples: Float64Array;
  private count = 0;
  private totalMs = 0;
  private cpuTotalMicros = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.samples.length;
  }

  /** One call's latency and, optionally, the CPU microseconds this process spent during it. */
  record(ms: number, cpuMicros?: number): void {
    if (this.count < this.samples.length) this.samples[this.count++] = ms;
    this.totalMs += ms;
    if (cpuMicros !== undefined) this.cpuTotalMicros += cpuMicros;
  }

  /**
   * Rate as operations per second of wall-clock time given, or (without it) per second spent inside the operations;
   * CPU figures from `cpuMicros`, or else from the CPU time recorded with the calls.
   */
  figure(wallMs?: number, cpuMicros = this.cpuTotalMicros > 0 ? this.cpuTotalMicros : undefined): Figure {
    const sorted = this.samples.slice(0, this.count).sort();
    const elapsed = wallMs ?? this.totalMs;
    return {
      ops: this.count,
      opsPerSec: elapsed > 0 ? round((this.count * 1000) / elapsed) : 0,
      p50Us: round(quantile(sorted, 0.5) * 1000, 1),
      p99Us: round(quantile(sorted, 0.99) * 1000, 1),
      ...(cpuMicros !== undefined && elapsed > 0 ? { cpuShare: round(cpuMicros / 1000 / elapsed, 2) } : {}),
      ...(cpuMicros !== undefined && cpuMicros > 0 ? { opsPerCpuSec: round((this.count * 1e6) / cpuMicros) } : {}),
    };
  }
}

/** Nearest-rank quantile of an ascending array; 0 when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function warmupMs(limits: Limits): number {
  return limits.warmupMs ?? Math.min(300, limits.maxMs / 5);
}

/** Calls `op(i)` one after another (each awaited) and reports the rate over wall-clock time. */
export async function measureSerial(op: (i: number) => Promise<unknown>, limits: Limits): Promise<Figure> {
  let i = 0;
  for (const warmUntil = performance.now() + warmupMs(limits); performance.now() < warmUntil; ) await op(i++);
  const recorder = new LatencyRecorder(limits.maxOps);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + limits.maxMs;
  // Checking the clock is part of each timed call anyway, so the deadline costs nothing extra.
  for (let last = start; !recorder.full && last < stopAt; i++) {
    await op(i);
    const end = performance.now();
    recorder.record(end - last);
    last = end;
  }
  return recorder.figure(performance.now() - start, cpuMicros(cpu));
}

/** `concurrency` callers, each calling `op` one after another, all at once; the rate is over wall-clock time. */
export async function measureConcurrent(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  limits: Limits,
): Promise<Figure> {
  let next = 0;
  const warmUntil = performance.now() + warmupMs(limits);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < warmUntil) await op(next++);
    }),
  );
  const recorder = new LatencyRecorder(limits.maxOps);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + limits.maxMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!recorder.full) {
        const began = performance.now();
        if (began >= stopAt) return;
        await op(next++);
        recorder.record(performance.now() - began);
      }
    }),
  );
  return recorder.figure(performance.now() - start, cpuMicros(cpu));
}

/** User + system CPU microseconds this process used since `since`. */
export function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/** Seconds since `start` (a performance.now() value), rounded to 0.1 s, for progress lines. */
export function secondsSince(start: number): number {
  return round((performance.now() - start) / 1000, 1);
}
