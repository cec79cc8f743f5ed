/**
 * A store with only the six protocol methods (examples/map-store.ts) behind the real HTTP API: features it lacks are
 * "not supported by this store" with a stable code, and codes are held only to the generic bound, not to gatehouse's
 * alphabet (the store decides what its codes are).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMapPairingStore, createMapSessionStore } from "../examples/map-store.js";
import { OWNER_TOKEN, startGateway, type TestGateway } from "./gateway-helpers.js";

let running: TestGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function minimalGateway(): Promise<TestGateway> {
  running = await startGateway({ pairingStore: createMapPairingStore(), sessionBinding: createMapSessionStore() });
  return running;
}

describe("a protocol-only store behind the HTTP API", () => {
  it("deny and the audit log answer 501 not_supported_by_store, naming the missing method, and change nothing", async () => {
    const gw = await minimalGateway();
    const code = await gw.gateway.context.pairing.generateCode("webchat", "device-one-0123456789");
    const deny = await gw.api("POST", "/api/pairing/deny", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code },
    });
    expect(deny.status).toBe(501);
    expect(deny.body.error).toEqual({
      code: "not_supported_by_store",
      ghCode: "GH_ERR_NOT_SUPPORTED_BY_STORE",
      message: "not supported by this store: denying a request (the pairing store has no deny() method)",
    });
    const audit = await gw.api("GET", "/api/audit", { token: OWNER_TOKEN });
    expect(audit.status).toBe(501);
    expect(audit.body.error.code).toBe("not_supported_by_store");
    expect(audit.body.error.message).toMatch(/^not supported by this store: the audit log \(.*audit\(\)/);
    const pending = await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN });
    expect(pending.body.pending.map((p: { code: string }) => p.code)).toEqual([code]);
  });

  it("takes any code within the generic bound to the store and refuses others before it", async () => {
    const gw = await minimalGateway();
    const foreign = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: "dead-bee0" },
    });
    expect(foreign.status).toBe(200);
    expect(foreign.body).toEqual({ approved: false });
    for (const code of ["ab", "AB;CD-EF", "ABCD\nEFGH", "-ABCD", "x".repeat(65)]) {
      const refused = await gw.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code },
      });
      expect(refused.status, code).toBe(400);
      expect(refused.body.error).toMatchObject({ code: "invalid_request", field: "code" });
    }
  });
});
