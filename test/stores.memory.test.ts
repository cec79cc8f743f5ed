import { describe, expect, it } from "vitest";
import { MemoryPairingStore, MemorySessionBindingStore } from "../src/stores/index.js";
import { describePairingStore, describeSessionBindingStore } from "../src/testing/index.js";

describePairingStore("memory", (ctx) => new MemoryPairingStore({ ...ctx.rules, now: ctx.now, secret: ctx.secret }), {
  describe,
  it,
});

describeSessionBindingStore(
  "memory",
  (ctx) => new MemorySessionBindingStore({ now: ctx.now, idleTtlMs: ctx.idleTtlMs }),
  { describe, it },
);

describe("openStores('memory:')", () => {
  it("ignores options meant for other backends and still validates the rules", async () => {
    const { openStores } = await import("../src/stores/index.js");
    const stores = await openStores("memory:", { dataDir: "/nonexistent", keyPrefix: "x", requestTtlMs: 1000 });
    await stores.close();
    await expect(openStores("memory:", { requestTtlMs: -1 })).rejects.toThrow(/requestTtlMs must be a positive number/);
    await expect(openStores("ftp://x")).rejects.toThrow(/supported: memory:, sqlite:/);
  });
});
