import type { EventEmitter } from "node:events";
import type { AuditEvent, AuditEventType, AuditResync } from "../stores/types.js";
import type { GatewayLogger, GatewayPairingStore } from "../core/context.js";

const EVENT_NAMES: Partial<Record<AuditEventType, string>> = {
  requested: "pairing.requested",
  approved: "pairing.approved",
  denied: "pairing.denied",
  revoked: "pairing.revoked",
  expired: "pairing.expired",
};

/**
 * Re-emits the pairing store's audit stream on the gateway's events: `pairing.<decision>` for the pairing decisions and
 * `audit` for every event, and `channel.notice` for a channel's announced notice. This is how approvals made by the CLI
 * or another instance reach open sockets and channels, and a notice seen on one instance reaches every console.
 * Restored history (`detail.restored`, from `gatehouse import`) is not re-emitted. When the feed missed events
 * (trimmed by the store's retention before they were read) it logs that and emits `store.resync`, on which whoever
 * acts on events re-reads the store. Returns the unsubscribe function (a no-op for stores without subscribe()).
 */
export function bridgeStoreEvents(store: GatewayPairingStore, events: EventEmitter, logger: GatewayLogger): () => void {
  if (typeof store.subscribe !== "function") return () => {};
  const onEvent = (event: AuditEvent): void => {
    // History written by `gatehouse import`/`migrate` (restore) happened elsewhere, long ago: nobody is told again.
    if (event.detail.restored !== undefined) return;
    try {
      const name = EVENT_NAMES[event.type];
      if (name) events.emit(name, event);
      // A channel's notice announced through the feed (by any instance) reaches this instance's consoles.
      if (event.type === "channel-notice")
        events.emit("channel.notice", { ...event.detail, channelType: event.channelType });
      events.emit("audit", event);
    } catch (error) {
      logger.error("a gateway event listener threw", {
        event: event.type,
        error: error instanceof Error ? error.name : "unknown",
      });
    }
  };
  const onResync = (resync: AuditResync): void => {
    logger.warn(
      "the store's event feed fell behind its retention and missed events; re-reading pairings, tokens and waiting devices from the store",
      {
        missed: resync.missed,
        after: resync.after,
      },
    );
    try {
      events.emit("store.resync", resync);
    } catch (error) {
      logger.error("a gateway event listener threw", {
        event: "store.resync",
        error: error instanceof Error ? error.name : "unknown",
      });
    }
  };
  return store.subscribe.call(store, onEvent, onResync);
}
