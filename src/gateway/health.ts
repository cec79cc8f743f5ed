import type { FastifyInstance } from "fastify";
import { withDeadline } from "./deadline.js";
import type { HttpDeps } from "./http-server.js";

export type StoreStatus = "ok" | "down" | "unchecked";

interface Checkable {
  health?: () => Promise<void> | void;
}

async function statusOf(name: string, store: Checkable): Promise<StoreStatus> {
  if (typeof store.health !== "function") return "unchecked";
  try {
    await withDeadline(`${name}.health`, () => store.health?.call(store));
    return "ok";
  } catch {
    return "down";
  }
}

/** GET /healthz: 200 `{ ok: true, stores }`, or 503 naming the store that is down. Needs no auth and shows no detail. */
export function registerHealthRoute(app: FastifyInstance, deps: HttpDeps): void {
  app.get("/healthz", async (_request, reply) => {
    const ctx = deps.context();
    const stores = {
      pairing: await statusOf("pairing", ctx.pairing),
      sessions: await statusOf("sessions", ctx.sessions),
    };
    const down = Object.entries(stores)
      .filter(([, status]) => status === "down")
      .map(([name]) => name);
    if (down.length === 0) return reply.code(200).send({ ok: true, stores });
    return reply.code(503).send({
      ok: false,
      stores,
      error: { code: "unavailable", message: `${down.join(" and ")} store${down.length > 1 ? "s are" : " is"} unavailable` },
    });
  });
}
