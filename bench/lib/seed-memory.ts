import type { PairedChannel } from "../../src/protocols/types.js";
import { serializePrincipal } from "../../src/stores/principal.js";
import type { Stores } from "../../src/stores/types.js";
import type { Population } from "./dataset.js";

/**
 * The memory store keeps its state in private Maps (src/stores/memory/pairing.ts, session-binding.ts); the bench
 * writes into them directly, the way the other seeders write rows or keys, instead of a million approve() calls.
 * The shape is checked after seeding (see checkSeeded), so a change of those internals fails loudly, never silently.
 */
interface MemoryInternals {
  pairing: { paired: Map<string, PairedChannel> };
  sessions: { bindings: Map<string, { json: string; lastSeen: number }> };
}

export function seedMemory(stores: Stores, people: Population, from: number, to: number): void {
  const internals = { pairing: stores.pairing, sessions: stores.sessions } as unknown as MemoryInternals;
  const paired = internals.pairing.paired;
  const bindings = internals.sessions.bindings;
  if (!(paired instanceof Map) || !(bindings instanceof Map)) {
    throw new Error(
      "bench: the memory store's internals changed (paired / bindings maps); update bench/lib/seed-memory.ts",
    );
  }
  const now = Date.now();
  for (let i = from; i < to; i++) {
    const channelId = people.idOf(i);
    paired.set(`${people.channelType}\u0000${channelId}`, {
      channelId,
      channelType: people.channelType,
      label: people.labelOf(i),
      pairedAt: now,
      approvedBy: "owner",
    });
    bindings.set(people.sessionOf(i), { json: serializePrincipal(people.principalOf(i)), lastSeen: now });
  }
}
