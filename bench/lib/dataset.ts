import { sessionKey } from "../../src/gateway/admission.js";
import type { Principal } from "../../src/protocols/types.js";

/** The benchmark's synthetic population: `size` paired senders of one channel type, each with a bound session. */
export const BENCH_CHANNEL_TYPE = "bench";

export const pairedId = (i: number): string => `u${i}`;

/** The session a paired sender's direct messages use (chat id = sender id), as the router would compute it. */
export const sessionOf = (i: number): string => sessionKey(BENCH_CHANNEL_TYPE, pairedId(i), pairedId(i));

export const principalOf = (i: number): Principal => ({
  userId: pairedId(i),
  role: "user",
  channelType: BENCH_CHANNEL_TYPE,
  name: `User ${i}`,
});

export const labelOf = (i: number): string => `User ${i}`;

/** A pseudo-random index in [0, size), cheap and reproducible (xorshift32), so every backend sees the same access pattern. */
export function indexStream(size: number, seed = 0x9e3779b9): (i: number) => number {
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
