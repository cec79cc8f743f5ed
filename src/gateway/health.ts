import type { FastifyInstance } from "fastify";
import { StoreUnavailableError } from "../pairing/errors.js";
import { withDeadline } from "./deadline.js";
import type { HttpDeps } from "./http-server.js";

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

/** GET /healthz: 200 `{ ok: true, stores }`, or 503 naming the store that is down. Needs no auth and shows no detail. */
export function registerHealthRoute(app: FastifyInstance, deps: HttpDeps): void {
  app.get("/healthz", async (_request, reply) => {
    const ctx = deps.context();
    const [pairing, sessions] = await Promise.all([statusOf("pairing", ctx.pairing), statusOf("sessions", ctx.sessions)]);
    const stores = { pairing: pairing.status, sessions: sessions.status };
    const down = Object.entries(stores)
      .filter(([, status]) => status === "down")
      .map(([name]) => name);
    if (down.length === 0) return reply.code(200).send({ ok: true, stores });
    // Names the backend (redis, postgres, …) when the store said which one, so an operator knows what to look at.
    const backends = [...new Set([pairing.backend, sessions.backend].filter((b): b is string => b !== undefined))];
    const which = backends.length > 0 ? ` (${backends.join(", ")})` : "";
    return reply.code(503).send({
      ok: false,
      stores,
      error: { code: "unavailable", message: `${down.join(" and ")} store${down.length > 1 ? "s are" : " is"} unavailable${which}` },
    });
  });
}
