import { createHash, timingSafeEqual } from "node:crypto";
import type { AuthProtocol } from "gatehouse";

/** An AuthProtocol written from docs/protocols.md: one bearer token is the owner; anything else is refused. */
export function ownerTokenAuth(token: string): AuthProtocol {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  const expected = digest(token);
  return {
    check(request) {
      const header = request.headers.authorization;
      const given =
        typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7) : request.connectParams?.token;
      // Equal-length digests, compared in constant time: the token's length and content never leak through timing.
      if (typeof given !== "string" || !timingSafeEqual(digest(given), expected))
        return { success: false, metadata: {} };
      return { success: true, userId: "owner", role: "owner", metadata: {} };
    },
  };
}
