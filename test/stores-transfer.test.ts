/**
 * importRecords into a store without restore() (a user's own store): pairings go through generateCode/approve, so every
 * sender is paired with label and approver kept, the summary says the history stayed in the file, and a second run adds
 * nothing.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import { importRecords, parseExport } from "../src/stores/transfer/index.js";
import type { PairingStore, Stores } from "../src/stores/types.js";

const FILE = [
  { format: "gatehouse-export", version: 1, source: "sqlite", exportedAt: 1 },
  {
    type: "paired",
    channelType: "telegram",
    channelId: "42",
    label: "Ada",
    pairedAt: 1_700_000_000_000,
    approvedBy: "owner:alice",
  },
  { type: "paired", channelType: "discord", channelId: "777", label: "Grace", pairedAt: 1_700_000_000_001 },
  {
    type: "audit",
    event: "approved",
    at: 1_700_000_000_000,
    channelType: "telegram",
    channelId: "42",
    actor: "owner:alice",
    detail: {},
  },
]
  .map((line) => JSON.stringify(line))
  .join("\n");

/** The memory store as a store that has every method but restore(). */
function withoutRestore(stores: Stores): Stores {
  const pairing = stores.pairing;
  const view = Object.create(pairing) as PairingStore;
  Object.defineProperty(view, "restore", { value: undefined });
  return { ...stores, pairing: view };
}

describe("importRecords without restore()", () => {
  it("pairs every sender through generateCode/approve and keeps labels and approvers", async () => {
    const stores = withoutRestore(await openStores("memory:", { secret: randomBytes(32) }));
    try {
      const { records } = parseExport(FILE);
      const summary = await importRecords(stores, records);
      expect(summary).toMatchObject({ method: "protocol", paired: { added: 2 }, audit: { added: 0, notKept: 1 } });
      const paired = await stores.pairing.listPaired();
      expect(paired.map((p) => [p.channelType, p.channelId, p.label, p.approvedBy]).sort()).toEqual([
        ["discord", "777", "Grace", "import"],
        ["telegram", "42", "Ada", "owner:alice"],
      ]);
      expect(await stores.pairing.listPending()).toEqual([]);
      const again = await importRecords(stores, records);
      expect(again.paired).toEqual({ added: 0, present: 2 });
    } finally {
      await stores.close();
    }
  });
});
