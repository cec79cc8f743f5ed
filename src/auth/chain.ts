import type { AuthProtocol, AuthResult, GatewayRequest } from "../protocols/types.js";
import { assertAuthProtocol } from "../protocols/guards.js";
import { deny, safeCheck, type AuthLogger } from "./result.js";

export interface AuthChainOptions {
  logger?: AuthLogger;
}

/** Tries each backend in order; the first success wins; a throw counts as a failure; all failures deny. */
export function createAuthChain(backends: readonly AuthProtocol[], options: AuthChainOptions = {}): AuthProtocol {
  if (backends.length === 0) throw new TypeError("chainAuth needs at least one auth backend");
  backends.forEach((backend, index) => assertAuthProtocol(backend, `auth backend ${index}`));
  const names = backends.map((backend, index) => backendName(backend, index));
  return {
    async check(request: GatewayRequest): Promise<AuthResult> {
      const reasons: string[] = [];
      for (const [index, backend] of backends.entries()) {
        const name = names[index] ?? `backend ${index}`;
        const result = await safeCheck(backend, request, options.logger, name);
        if (result.success) return result;
        const reason = result.metadata.reason;
        reasons.push(`${name}: ${typeof reason === "string" ? reason : "denied"}`);
      }
      return { ...deny("no backend accepted the request", "chain"), metadata: { backend: "chain", reasons } };
    },
  };
}

export function chainAuth(...backends: AuthProtocol[]): AuthProtocol {
  return createAuthChain(backends);
}

function backendName(backend: AuthProtocol, index: number): string {
  const name = (backend as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : `backend ${index}`;
}
