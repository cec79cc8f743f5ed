import { describe, it } from "vitest";
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
