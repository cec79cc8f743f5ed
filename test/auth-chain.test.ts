import { describe, expect, it } from "vitest";
import { chainAuth, createAuthChain, localSocketAuth, mintToken, tokenAuth } from "../src/auth/index.js";
import { safeCheck } from "../src/auth/result.js";
import type { AuthProtocol, AuthResult } from "../src/protocols/types.js";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import { captureLogger, gatewayRequest } from "./auth-helpers.js";

const fixed = (result: AuthResult): AuthProtocol => ({ check: () => result });
const throwing = (message: string): AuthProtocol => ({
  check: () => {
    throw new Error(message);
  },
});

describe("chainAuth", () => {
  it("the first success wins, in order", async () => {
    const chain = chainAuth(
      fixed({ success: false, metadata: {} }),
      fixed({ success: true, userId: "a", role: "user", metadata: {} }),
      fixed({ success: true, userId: "b", role: "owner", metadata: {} }),
    );
    expect(await chain.check(gatewayRequest())).toMatchObject({ success: true, userId: "a", role: "user" });
  });

  it("all failures deny, with each backend's reason and no identity", async () => {
    const tokens = new MemoryTokenStore();
    const chain = chainAuth(tokenAuth(tokens), localSocketAuth());
    const result = await chain.check(gatewayRequest({ remoteAddress: "203.0.113.1" }));
    expect(result.success).toBe(false);
    expect(result.userId).toBeUndefined();
    expect(result.role).toBeUndefined();
    expect(result.metadata.reasons).toEqual(["token: no token", "local-socket: not on the local owner socket"]);
  });

  it("a throwing backend counts as a failure and the next one is tried; the error is logged without the token", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "admin", userId: "ann" });
    const logger = captureLogger();
    const chain = createAuthChain([throwing("ldap down"), tokenAuth(tokens)], { logger });
    const result = await chain.check(gatewayRequest({ headers: { authorization: `Bearer ${token}` } }));
    expect(result).toMatchObject({ success: true, userId: "ann", role: "admin" });
    expect(logger.lines.join("\n")).toContain("ldap down");
    expect(logger.lines.join("\n")).not.toContain(token);
  });

  it("redacts the presented credential from a backend's error message before logging it", async () => {
    const leaky: AuthProtocol = {
      check: (request) => {
        throw new Error(
          `lookup failed for ${String(request.headers.authorization)} and ${String(request.connectParams?.token)}`,
        );
      },
    };
    const logger = captureLogger();
    const secret = "s3cr3t-value-of-a-custom-scheme";
    const jwtish = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";
    await createAuthChain([leaky], { logger }).check(
      gatewayRequest({ headers: { authorization: `Bearer ${secret}` }, connectParams: { token: jwtish } }),
    );
    const logged = logger.lines.join("\n");
    expect(logged).toContain("lookup failed");
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(jwtish);
  });

  it("denies when every backend throws or rejects", async () => {
    const rejecting: AuthProtocol = { check: () => Promise.reject(new Error("timeout")) };
    const result = await chainAuth(throwing("x"), rejecting).check(gatewayRequest());
    expect(result.success).toBe(false);
  });

  it("a success without userId or role is not a success", async () => {
    const chain = chainAuth(
      fixed({ success: true, metadata: {} }),
      fixed({ success: true, userId: "u", metadata: {} }),
    );
    expect((await chain.check(gatewayRequest())).success).toBe(false);
    expect((await safeCheck(fixed({ success: true, role: "owner", metadata: {} }), gatewayRequest())).success).toBe(
      false,
    );
  });

  it("refuses an empty chain or a member that is not an auth backend", () => {
    expect(() => chainAuth()).toThrow(/at least one/);
    expect(() => chainAuth(localSocketAuth(), {} as AuthProtocol)).toThrow(/auth backend 1 is missing: check/);
  });
});
