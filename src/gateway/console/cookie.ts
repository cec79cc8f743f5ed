import { fastifyCookie } from "@fastify/cookie";
import type { GatewayRequest } from "../../protocols/types.js";
import { deriveKey } from "../../pairing/secret.js";
import { headerValue } from "../../auth/headers.js";

/** The console's session cookie: HttpOnly, SameSite=Strict, Path=/, signed with the gateway's derived cookie key. */
export const CONSOLE_COOKIE = "gatehouse_console";

export type CookieSigner = ReturnType<typeof fastifyCookie.signerFactory>;

export function cookieSigner(secret: Buffer): CookieSigner {
  return fastifyCookie.signerFactory(deriveKey(secret, "cookie"));
}

/** The session id in a request's console cookie when its signature is valid, else null. */
export function consoleSessionId(request: GatewayRequest, signer: CookieSigner): string | null {
  const header = headerValue(request, "cookie");
  if (header === undefined) return null;
  let raw: string | undefined;
  try {
    raw = fastifyCookie.parse(header)[CONSOLE_COOKIE];
  } catch {
    return null;
  }
  if (raw === undefined || raw === "") return null;
  const unsigned = signer.unsign(raw);
  return unsigned.valid ? unsigned.value : null;
}
