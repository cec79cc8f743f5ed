import { performance } from "node:perf_hooks";
import { isSkipped, openBackend, type BackendName, type BenchBackend } from "./backends.js";
import { BENCH } from "./dataset.js";
import { secondsSince } from "./measure.js";
import { log } from "./report.js";

export type PerSize<R> = R & { paired: number; seedSeconds: number };

/**
 * Opens one backend in a fresh namespace and grows it through `sizes` (seeding only the difference each time), calling
 * `measure` at each size; the namespace is removed afterwards. A backend that cannot be opened is `{ skipped }`.
 */
export async function acrossSizes<R extends object>(
  part: string,
  name: BackendName,
  sizes: readonly number[],
  measure: (backend: BenchBackend, size: number) => Promise<R>,
): Promise<{ sizes: PerSize<R>[] } | { skipped: string }> {
  const opened = await openBackend(name);
  if (isSkipped(opened)) {
    log(`${part}: ${name} skipped (${opened.skipped})`);
    return opened;
  }
  try {
    const results: PerSize<R>[] = [];
    let seeded = 0;
    for (const size of sizes) {
      const seedStart = performance.now();
      await opened.seed(seeded, size);
      seeded = size;
      const seedSeconds = secondsSince(seedStart);
      log(`${part}: ${name} seeded to ${size.toLocaleString("en-US")} paired in ${seedSeconds} s`);
      await checkSeeded(opened, size);
      results.push({ ...(await measure(opened, size)), paired: size, seedSeconds });
    }
    return { sizes: results };
  } finally {
    await opened.dispose();
  }
}

/** The first and last seeded sender must be paired with a session, or the figures would measure misses. */
async function checkSeeded(backend: BenchBackend, size: number): Promise<void> {
  for (const i of [0, size - 1]) {
    const paired = await backend.stores.pairing.isPaired(BENCH.idOf(i), BENCH.channelType);
    const session = await backend.stores.sessions.lookup(BENCH.sessionOf(i));
    if (!paired || session?.userId !== BENCH.idOf(i)) {
      throw new Error(`bench: seeding ${backend.name} did not produce a paired sender with a session at index ${i}`);
    }
  }
}
