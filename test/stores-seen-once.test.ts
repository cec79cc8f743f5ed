import { afterAll, describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { allBackends } from "./support/backends.js";

const backends = await allBackends();
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

describe.each(backends)("seen-once keys on $name", (backend) => {
  it.skipIf(!backend.available)("claims a key once per window, for every opener of the store", async () => {
    let now = 1_000_000;
    const url = backend.freshUrl();
    const secret = Buffer.alloc(32, 3);
    const first = await openStores(url, { secret, now: () => now });
    const second: Stores = backend.shared ? await openStores(url, { secret, now: () => now }) : first;
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? first : second).seen!.firstSighting("wamid.A", 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await second.seen!.firstSighting("wamid.B", 60_000)).toBe(true);
      expect(await first.seen!.firstSighting("wamid.B", 60_000)).toBe(false);
      if (backend.name === "redis") return; // Redis expires keys on its own clock; the window is its PX.
      now += 60_001;
      expect(await first.seen!.firstSighting("wamid.A", 60_000)).toBe(true);
      expect(await second.seen!.firstSighting("wamid.A", 60_000)).toBe(false);
    } finally {
      if (second !== first) await second.close();
      await first.close();
    }
  });
});
