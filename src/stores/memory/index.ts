import type { PairingStoreOptions, SessionStoreOptions, Stores } from "../types.js";
import { MemoryPairingStore } from "./pairing.js";
import { MemorySessionBindingStore } from "./session-binding.js";
import { MemorySeenOnceStore } from "./seen-once.js";
import { MemoryTokenStore } from "./tokens.js";
import { MemoryApprovalStore } from "./approvals.js";
import { MemoryBudgetStore } from "./budgets.js";
import { MemoryConversationStore } from "./conversations.js";
import { createMemoryLeaseStore } from "./leases.js";
import { MemorySettingsStore } from "./settings.js";

export { MemoryPairingStore, MemorySessionBindingStore, MemoryTokenStore, MemoryApprovalStore };

export function openMemoryStores(pairing: PairingStoreOptions = {}, sessions: SessionStoreOptions = {}): Stores {
  const pairingStore = new MemoryPairingStore(pairing);
  const stores: Stores = {
    backend: "memory",
    pairing: pairingStore,
    sessions: new MemorySessionBindingStore(sessions),
    tokens: new MemoryTokenStore((id) => pairingStore.recordTokenRevoked(id)),
    seen: new MemorySeenOnceStore(pairing.now),
    approvals: new MemoryApprovalStore({ now: pairing.now }, (event) => pairingStore.recordApprovalEvent(event)),
    budgets: new MemoryBudgetStore(pairing.now),
    conversations: new MemoryConversationStore(pairing.now),
    leases: createMemoryLeaseStore(pairing.now),
    announcements: { announce: async (event) => pairingStore.recordAnnouncement(event) },
    settings: new MemorySettingsStore(),
    close: async () => {
      await stores.approvals?.close();
      await stores.pairing.close();
      await stores.sessions.close();
    },
  };
  return stores;
}
