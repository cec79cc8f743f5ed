import type { EventEmitter } from "node:events";
import type { GatewaySessionStore } from "../../core/context.js";
import type { AuditEvent, SeenOnceStore, Stores } from "../../stores/types.js";
import type { ConsoleSessions, ConsoleSessionStores } from "./sessions.js";

/**
 * Where the console keeps its sessions: the gateway's session store (with the store's seen-once keys for single-use
 * tickets, its announcements for sign-outs and its budgets for sign-in attempts), so every instance on the store shares
 * them. A custom session store without `unbind` leaves the console in this process's memory.
 */
export function consoleStores(
  sessions: GatewaySessionStore | undefined,
  seen: SeenOnceStore | undefined,
  stores: Stores | undefined,
): { store?: ConsoleSessionStores; budgets?: NonNullable<Stores["budgets"]> } {
  const budgets = stores?.budgets ? { budgets: stores.budgets } : {};
  const unbind = sessions?.unbind;
  if (!sessions || typeof unbind !== "function") return budgets;
  const store: ConsoleSessionStores = {
    sessions: {
      bind: async (id, principal) => sessions.bind(id, principal),
      lookup: async (id) => sessions.lookup(id),
      unbind: (id) => unbind.call(sessions, id),
    },
    ...(seen ? { seen } : {}),
    ...(stores?.announcements ? { announcements: stores.announcements } : {}),
  };
  return { store, ...budgets };
}

/** Console sessions ended on any instance (the feed's `console-session-ended`) end here too. Returns the unsubscribe. */
export function followAnnouncements(events: EventEmitter, sessions: ConsoleSessions): () => void {
  const onAudit = (event: AuditEvent): void => {
    if (event.type === "console-session-ended" && event.channelId) sessions.heardEnded(event.channelId);
  };
  events.on("audit", onAudit);
  return () => events.off("audit", onAudit);
}
