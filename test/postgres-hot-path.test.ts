import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import { testSchemas } from "./postgres-helpers.js";

const { available, nextUrl } = await testSchemas("h");

describe.runIf(available)("postgres store: isPaired under concurrency", () => {
  it("answers each of hundreds of concurrent lookups (batched together) for its own sender", async () => {
    const stores = await openPostgresStores(nextUrl(), {
      secret: randomBytes(32),
      maxPendingPerChannelType: 100,
      poolSize: 2,
    });
    try {
      for (let i = 0; i < 40; i += 3) {
        const code = await stores.pairing.generateCode(i % 2 ? "telegram" : "discord", `user-${i}`);
        expect(await stores.pairing.approve(i % 2 ? "telegram" : "discord", code)).toBe(true);
      }
      const asks = Array.from({ length: 600 }, (_, n) => {
        const i = n % 40;
        // Half the time ask on the other channel type: paired there never.
        const flip = n % 80 >= 40;
        const type = ((i % 2 ? "telegram" : "discord") === "telegram") !== flip ? "telegram" : "discord";
        const expected = i % 3 === 0 && !flip;
        return { id: `user-${i}`, type, expected };
      });
      const answers = await Promise.all([
        ...asks.map((a) => stores.pairing.isPaired(a.id, a.type)),
        stores.pairing.isPaired("", "telegram"),
        stores.pairing.isPaired("user-0", "NOT A TYPE"),
      ]);
      expect(answers).toEqual([...asks.map((a) => a.expected), false, false]);
    } finally {
      await stores.close();
    }
  });
});
