import type { FastifyInstance } from "fastify";
import { StoreUnavailableError } from "../pairing/errors.js";
import { withDeadline } from "../core/deadline.js";
import { errorBody, GatewayError } from "../core/errors.js";
import type { ChannelHealth, ChannelPlugin } from "../core/context.js";
import type { HttpDeps } from "./http-deps.js";

export type StoreStatus = "ok" | "down" | "unchecked";

interface Checkable {
  health?: () => Promise<void> | void;
}

/** The store's status, and for a built-in backend that is down, which one (its StoreUnavailableError says: "redis", …). */
async function statusOf(name: string, store: Checkable): Promise<{ status: StoreStatus; backend?: string }> {
  if (typeof store.health !== "function") return { status: "unchecked" };
  try {
    await withDeadline(`${name}.health`, () => store.health?.call(store));
    return { status: "ok" };
  } catch (error) {
    return error instanceof StoreUnavailableError ? { status: "down", backend: error.store } : { status: "down" };
  }
}

/** Each channel's health; a throwing health() counts as degraded (fail closed). */
export function channelHealth(channels: readonly ChannelPlugin[]): {
  statuses: Record<string, ChannelHealth["status"]>;
  degraded: string[];
} {
  const statuses: Record<string, ChannelHealth["status"]> = {};
  const degraded: string[] = [];
  for (const channel of channels) {
    let health: ChannelHealth;
    try {
      health = channel.health?.() ?? { status: "ok" };
    } catch {
      health = { status: "degraded", reason: "its health check failed" };
    }
    statuses[channel.channelType] = health.status;
    if (health.status === "degraded")
      degraded.push(`channel ${channel.channelType} is degraded${health.reason ? `: ${health.reason}` : ""}`);
  }
  return { statuses, degraded };
}

/**
 * GET /healthz: 200 `{ ok: true, stores, channels? }`, or 503 naming the store that is down or the channel that is
 * degraded (cannot log in, stopped receiving). Needs no auth and shows no secret.
 */
export function registerHealthRoute(app: FastifyInstance, deps: HttpDeps): void {
  app.get("/healthz", async (_request, reply) => {
    const ctx = deps.context();
    const [pairing, sessions] = await Promise.all([
      statusOf("pairing", ctx.pairing),
      statusOf("sessions", ctx.sessions),
    ]);
    const stores = { pairing: pairing.status, sessions: sessions.status };
    const channelList = deps.channels?.() ?? [];
    const channels = channelHealth(channelList);
    const shown = channelList.length > 0 ? { stores, channels: channels.statuses } : { stores };
    const down = Object.entries(stores)
      .filter(([, status]) => status === "down")
      .map(([name]) => name);
    if (down.length === 0 && channels.degraded.length === 0) return reply.code(200).send({ ok: true, ...shown });
    if (down.length === 0) {
      return reply
        .code(503)
        .send({ ok: false, ...shown, error: errorBody(new GatewayError("degraded", channels.degraded.join("; "))) });
    }
    // Names the backend (redis, postgres, …) when the store said which one, so an operator knows what to look at.
    const backends = [...new Set([pairing.backend, sessions.backend].filter((b): b is string => b !== undefined))];
    const which = backends.length > 0 ? ` (${backends.join(", ")})` : "";
    return reply.code(503).send({
      ok: false,
      ...shown,
      error: errorBody(
        new GatewayError(
          "unavailable",
          `${down.join(" and ")} store${down.length > 1 ? "s are" : " is"} unavailable${which}`,
        ),
      ),
    });
  });
}
