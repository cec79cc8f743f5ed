/**
 * One catalogue of stable error codes (src/core/error-catalogue.ts): every HTTP error body and WebSocket error frame
 * carries its GH_ERR_* code as `error.ghCode` beside the short `error.code`, a library error keeps its own code on the
 * way out, and the protocol docs list exactly the catalogue.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createMapPairingStore, createMapSessionStore } from "../examples/map-store.js";
import { ERROR_CODES } from "../src/errors.js";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import {
  connectWithToken,
  OWNER_TOKEN,
  startGateway,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";

let gw: TestGateway | undefined;
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await gw?.stop();
  gw = undefined;
});

/** A protocol-only store whose listPending finds its backend down. */
function storeThatIsDown() {
  const store = createMapPairingStore();
  return Object.assign(store, {
    listPending: () => {
      throw new StoreUnavailableError("map");
    },
  });
}

describe("error codes over HTTP", () => {
  it("each error body carries the catalogue code, the short code and the catalogue's status", async () => {
    gw = await startGateway({ pairingStore: storeThatIsDown(), sessionBinding: createMapSessionStore() });
    const cases = [
      [await gw.api("GET", "/api/pairing/paired"), "GH_ERR_UNAUTHENTICATED"],
      [await gw.api("GET", "/api/pairing/paired", { token: USER_TOKEN }), "GH_ERR_FORBIDDEN"],
      [await gw.api("POST", "/api/pairing/approve", { token: OWNER_TOKEN, raw: "{nope" }), "GH_ERR_INVALID_JSON"],
      [await gw.api("GET", "/nope", { token: OWNER_TOKEN }), "GH_ERR_NOT_FOUND"],
      [
        await gw.api("POST", "/api/pairing/deny", {
          token: OWNER_TOKEN,
          body: { channelType: "webchat", code: "ABCD-EFGH" },
        }),
        "GH_ERR_NOT_SUPPORTED_BY_STORE",
      ],
      [await gw.api("GET", "/api/pairing/pending", { token: OWNER_TOKEN }), "GH_ERR_STORE_UNAVAILABLE"],
    ] as const;
    for (const [response, ghCode] of cases) {
      const entry = ERROR_CODES[ghCode];
      expect(response.body.error, ghCode).toMatchObject({ ghCode, code: entry.wire });
      expect(response.status, ghCode).toBe(entry.status);
    }
  });
});

describe("error codes over WebSocket", () => {
  it("error frames and failed responses carry the catalogue code", async () => {
    gw = await startGateway({ pairingStore: storeThatIsDown(), sessionBinding: createMapSessionStore() });
    const early = await TestSocket.open(gw.wsUrl);
    sockets.push(early);
    early.send({ type: "req", id: 1, method: "session.whoami" });
    expect((await early.nextOfType("error")).error).toMatchObject({
      code: "connect_required",
      ghCode: "GH_ERR_CONNECT_REQUIRED",
    });

    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    sockets.push(socket);
    socket.send("{not json");
    expect((await socket.nextOfType("error")).error).toMatchObject({
      code: "invalid_json",
      ghCode: "GH_ERR_INVALID_JSON",
    });
    expect((await socket.request(2, "pairing.nuke")).error).toMatchObject({
      code: "unknown_method",
      ghCode: "GH_ERR_UNKNOWN_METHOD",
    });
    expect((await socket.request(3, "pairing.approve", { channelType: "webchat" })).error).toMatchObject({
      code: "invalid_request",
      ghCode: "GH_ERR_INVALID_REQUEST",
      field: "code",
    });
    expect((await socket.request(4, "pairing.list", {})).error).toMatchObject({
      code: "unavailable",
      ghCode: "GH_ERR_STORE_UNAVAILABLE",
    });

    const { socket: user } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(user);
    expect((await user.request(5, "pairing.list", {})).error).toMatchObject({
      code: "forbidden",
      ghCode: "GH_ERR_FORBIDDEN",
    });
  });
});

describe("the protocol docs", () => {
  it("list exactly the catalogue's codes, with their short code and status", () => {
    const readme = readFileSync(new URL("../src/gateway/README.md", import.meta.url), "utf8");
    const section = readme.split(/^## Error codes$/m)[1]?.split(/^## /m)[0] ?? "";
    const rows = [...section.matchAll(/^\| `(GH_ERR_[A-Z_]+)` \| `([a-z_]+)` \| (\d{3}) \|/gm)].map(
      ([, ghCode, wire, status]) => [ghCode, wire, Number(status)],
    );
    const catalogue = Object.entries(ERROR_CODES).map(([ghCode, entry]) => [ghCode, entry.wire, entry.status]);
    expect(rows).toEqual(catalogue);
  });
});
