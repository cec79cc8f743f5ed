import { describe, expect, it } from "vitest";
import { mintToken, tokenAuth } from "../src/auth/index.js";
import { hashToken } from "../src/auth/token.js";
import { safeCheck } from "../src/auth/result.js";
import type { GatewayRequest } from "../src/protocols/types.js";
import { MemoryTokenStore } from "../src/stores/memory/tokens.js";
import type { TokenStore } from "../src/stores/types.js";

function request(headers: GatewayRequest["headers"] = {}, connectParams?: Record<string, unknown>): GatewayRequest {
  return {
    transport: connectParams ? "ws" : "http",
    method: "GET",
    url: "/api/pairing/pending",
    headers,
    remoteAddress: "203.0.113.7",
    query: {},
    connectParams,
  };
}

describe("mintToken", () => {
  it("returns the token once and stores only its SHA-256 hash", async () => {
    const tokens = new MemoryTokenStore();
    const minted = await mintToken(tokens, { role: "owner", userId: "alice", label: "laptop" });
    expect(minted.token).toMatch(/^gh_[A-Za-z0-9_-]{43}$/);
    const [stored] = await tokens.list();
    expect(stored).toMatchObject({
      id: minted.id,
      role: "owner",
      userId: "alice",
      label: "laptop",
      hash: hashToken(minted.token),
    });
    expect(JSON.stringify(stored)).not.toContain(minted.token.slice(3));
  });

  it("mints distinct tokens and defaults the user id to the token id", async () => {
    const tokens = new MemoryTokenStore();
    const a = await mintToken(tokens, { role: "admin" });
    const b = await mintToken(tokens, { role: "admin" });
    expect(a.token).not.toBe(b.token);
    expect(a.id).not.toBe(b.id);
    expect(a.record.userId).toBe(`token:${a.id}`);
    expect(await tokens.count()).toBe(2);
  });

  it.each([[""], ["Owner"], ["a b"], [42]])("refuses role %j, naming the field, storing nothing", async (role) => {
    const tokens = new MemoryTokenStore();
    await expect(mintToken(tokens, { role: role as string })).rejects.toThrow(/^role /);
    expect(await tokens.count()).toBe(0);
  });

  it("refuses a bad label or user id", async () => {
    const tokens = new MemoryTokenStore();
    await expect(mintToken(tokens, { role: "owner", label: "x\u0000y" })).rejects.toThrow(/label/);
    await expect(mintToken(tokens, { role: "owner", userId: "" })).rejects.toThrow(/userId/);
    expect(await tokens.count()).toBe(0);
  });
});

describe("tokenAuth", () => {
  it("admits a Bearer token with the stored role and user", async () => {
    const tokens = new MemoryTokenStore();
    const { token, id } = await mintToken(tokens, { role: "owner", userId: "alice" });
    const result = await tokenAuth(tokens).check(request({ authorization: `Bearer ${token}` }));
    expect(result).toMatchObject({ success: true, userId: "alice", role: "owner", metadata: { tokenId: id } });
  });

  it("admits the WebSocket connect frame's token and ignores a client-declared role", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "user", userId: "bob" });
    const result = await tokenAuth(tokens).check(
      request({ "x-role": "owner" }, { token, role: "owner", userId: "root" }),
    );
    expect(result).toMatchObject({ success: true, userId: "bob", role: "user" });
  });

  it("refuses a wrong token of the right shape", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "owner" });
    const forged = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    const result = await tokenAuth(tokens).check(request({ authorization: `Bearer ${forged}` }));
    expect(result.success).toBe(false);
    expect(result.userId).toBeUndefined();
  });

  it("refuses a missing header, another scheme, empty and placeholder tokens", async () => {
    const tokens = new MemoryTokenStore();
    await mintToken(tokens, { role: "owner" });
    const auth = tokenAuth(tokens);
    for (const headers of [
      {},
      { authorization: "" },
      { authorization: "Bearer " },
      { authorization: "Bearer undefined" },
      { authorization: "Bearer changeme" },
      { authorization: "Basic dXNlcjpwYXNz" },
    ]) {
      expect((await auth.check(request(headers))).success).toBe(false);
    }
    expect((await auth.check(request({}, { token: "" }))).success).toBe(false);
    expect((await auth.check(request({}, { token: "null" }))).success).toBe(false);
  });

  it("refuses an ambiguous repeated Authorization header", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "owner" });
    const result = await tokenAuth(tokens).check(request({ authorization: [`Bearer ${token}`, `Bearer ${token}`] }));
    expect(result.success).toBe(false);
    expect((await tokenAuth(tokens).check(request({ AUTHORIZATION: `bearer ${token}` }))).success).toBe(true);
  });

  it("never reads a token from the query string", async () => {
    const tokens = new MemoryTokenStore();
    const { token } = await mintToken(tokens, { role: "owner" });
    const result = await tokenAuth(tokens).check({ ...request(), query: { token } });
    expect(result.success).toBe(false);
  });

  it("stops admitting a token as soon as it is deleted", async () => {
    const tokens = new MemoryTokenStore();
    const { token, id } = await mintToken(tokens, { role: "owner" });
    const auth = tokenAuth(tokens);
    expect((await auth.check(request({ authorization: `Bearer ${token}` }))).success).toBe(true);
    expect(await tokens.delete(id)).toBe(true);
    expect((await auth.check(request({ authorization: `Bearer ${token}` }))).success).toBe(false);
  });

  it("denies (through safeCheck) when the store throws, logging no secret", async () => {
    const broken: TokenStore = {
      insert: async () => undefined,
      findByHash: async () => {
        throw new Error("database is locked");
      },
      list: async () => [],
      delete: async () => false,
      count: async () => 0,
    };
    const token = `gh_${"A".repeat(43)}`;
    const logs: string[] = [];
    const logger = {
      warn: (message: string, fields?: Record<string, unknown>) => logs.push(message + JSON.stringify(fields)),
    };
    const result = await safeCheck(tokenAuth(broken), request({ authorization: `Bearer ${token}` }), logger, "token");
    expect(result.success).toBe(false);
    expect(logs.join("\n")).toContain("database is locked");
    expect(logs.join("\n")).not.toContain(token);
  });

  it("refuses to build without a token store", () => {
    expect(() => tokenAuth(undefined as unknown as TokenStore)).toThrow(/token store is missing/);
  });
});
