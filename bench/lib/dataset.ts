import { sessionKey } from "../../src/core/admission.js";
import type { Principal } from "../../src/protocols/types.js";

/**
 * A synthetic population of paired senders of one channel type, each with a bound session; index i names the i-th.
 * Seeders write it in bulk; benchmarks pick indices from it.
 */
export interface Population {
  channelType: string;
  idOf(i: number): string;
  /** The session a sender's direct messages use (chat id = sender id), as the router computes it. */
  sessionOf(i: number): string;
  principalOf(i: number): Principal;
  labelOf(i: number): string;
}

function population(channelType: string, idOf: (i: number) => string): Population {
  return {
    channelType,
    idOf,
    sessionOf: (i) => sessionKey(channelType, idOf(i), idOf(i)),
    principalOf: (i) => ({ userId: idOf(i), role: "user", channelType, name: `User ${i}` }),
    labelOf: (i) => `User ${i}`,
  };
}

/** Chat senders of the store and admission benchmarks. */
export const BENCH = population("bench", (i) => `u${i}`);

/** Webchat devices of the gateway benchmark (device ids are at least 16 characters). */
export const WEBCHAT_DEVICES = population("webchat", (i) => `bench-device-${String(i).padStart(8, "0")}`);

export const BENCH_CHANNEL_TYPE = BENCH.channelType;
export const pairedId = BENCH.idOf;
export const sessionOf = BENCH.sessionOf;

/** A pseudo-random index in [0, size), cheap and reproducible (xorshift32), so every backend sees the same access pattern. */
export function indexStream(size: number, seed = 0x9e3779b9): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % size;
  };
}

/** Yields [start, end) ranges covering [0, size) in steps of `batch`. */
export function* batches(size: number, batch: number): Generator<[number, number]> {
  for (let start = 0; start < size; start += batch) yield [start, Math.min(size, start + batch)];
}
