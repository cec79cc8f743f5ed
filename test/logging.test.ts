/**
 * The gateway's pino logger: redaction (by field name, passwords in URLs, bearer tokens, request queries), levels, and
 * the request id that every line written while handling an HTTP request or a WebSocket connection carries.
 */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, type LogLevel } from "../src/gateway/logger.js";
import { MemoryPairingStore } from "../src/stores/index.js";
import { StoreUnavailableError } from "../src/pairing/errors.js";
import type { AuthProtocol } from "../src/protocols/types.js";
import {
  connectWithToken,
  fixedTokenAuth,
  OWNER_TOKEN,
  startGateway,
  TestSocket,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";
import { until } from "./support/until.js";

/** A pino logger writing into memory; `lines()` parses what was written. */
function captured(level: LogLevel = "info") {
  let text = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, any>),
  };
}

let gw: TestGateway | undefined;
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await gw?.stop();
  gw = undefined;
});

describe("createLogger", () => {
  it("writes one JSON object per line with time, level as a word and message", () => {
    const log = captured();
    log.logger.info("gateway started", { channels: ["telegram"] });
    const [line] = log.lines();
    expect(line).toMatchObject({ level: "info", message: "gateway started", channels: ["telegram"] });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it("redacts tokens, codes, secrets, passwords, cookies and authorization headers by name, up to two levels down", () => {
    const log = captured();
    log.logger.warn("something", {
      token: "tok-aaaaaaaaaaaa",
      code: "ABCD-EFGH",
      secret: "sec-bbbbbbbbbbbb",
      password: "pw-cccccccccccc",
      apiKey: "key-dddddddddddd",
      ticket: "tkt-eeeeeeeeeeee",
      request: {
        cookie: "gh_console=ffffffffffff",
        headers: {
          authorization: "Basic gggggggggggg",
          "set-cookie": ["gh=hhhhhhhhhhhh"],
          "x-api-key": "iiiiiiiiiiii",
        },
      },
      channelType: "telegram",
    });
    const text = log.text();
    for (const secret of [
      "aaaaaaaaaaaa",
      "ABCD-EFGH",
      "bbbbbbbbbbbb",
      "cccccccccccc",
      "dddddddddddd",
      "eeeeeeeeeeee",
      "ffffffffffff",
      "gggggggggggg",
      "hhhhhhhhhhhh",
      "iiiiiiiiiiii",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(log.lines()[0]).toMatchObject({
      token: "[redacted]",
      request: { headers: { authorization: "[redacted]" } },
      channelType: "telegram",
    });
  });

  it("takes passwords out of URLs and bearer tokens out of any string, wherever they are", () => {
    const log = captured();
    log.logger.error("closing stores failed", {
      error: "connect ECONNREFUSED postgres://gatehouse:s3cr3t-pass-word@db.internal:5432/gatehouse",
      tried: ["redis://:r3dis-pass-word@cache:6379/0"],
      reason: "upstream said: Bearer abc.def-ghi-jkl was refused",
    });
    const text = log.text();
    expect(text).not.toContain("s3cr3t-pass-word");
    expect(text).not.toContain("r3dis-pass-word");
    expect(text).not.toContain("abc.def-ghi-jkl");
    expect(log.lines()[0]).toMatchObject({
      error: "connect ECONNREFUSED postgres://gatehouse:[redacted]@db.internal:5432/gatehouse",
    });
  });

  it("writes nothing below its level, and refuses a level or format it does not know", () => {
    const log = captured("warn");
    log.logger.info("hidden");
    log.logger.warn("shown");
    expect(log.lines().map((line) => line.message)).toEqual(["shown"]);
    expect(() => createLogger({ level: "loud" as LogLevel })).toThrow(/log level must be one of .*warn/);
    expect(() => createLogger({ format: "xml" as "json" })).toThrow(/log format must be json or pretty/);
  });
});

describe("request ids in the gateway's logs", () => {
  it("every HTTP request gets an id: in fastify's lines, in the gateway's own lines (its auth check, its handler), and as X-Request-Id", async () => {
    const log = captured();
    const failing: AuthProtocol = {
      check(request) {
        if (request.headers["x-break"] === "1") throw new Error("directory down");
        return fixedTokenAuth().check(request);
      },
    };
    class DownOnApprove extends MemoryPairingStore {
      override async approve(): Promise<never> {
        throw new StoreUnavailableError("memory", { cause: new Error("disk gone") });
      }
    }
    gw = await startGateway({ logger: log.logger, auth: failing, pairingStore: new DownOnApprove() });

    const broken = await fetch(`${gw.url}/api/pairing/pending`, { headers: { "x-break": "1" } });
    expect(broken.status).toBe(401);
    const brokenId = broken.headers.get("x-request-id");
    expect(brokenId).toMatch(/^[0-9a-f-]{36}$/);
    const authLine = await until(
      () => log.lines().find((line) => line.message === "auth backend failed; request denied"),
      "the auth warning",
      15_000,
    );
    expect(authLine.requestId).toBe(brokenId);

    const approve = await fetch(`${gw.url}/api/pairing/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${OWNER_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ channelType: "webchat", code: "ABCD-EFGH" }),
    });
    expect(approve.status).toBe(503);
    const approveId = approve.headers.get("x-request-id");
    const failed = await until(
      () =>
        log
          .lines()
          .find(
            (line) => line.level === "error" && line.requestId === approveId && line.message !== "request completed",
          ),
      "the store failure line",
      15_000,
    );
    expect(failed.message).toBe("http request failed");
    expect(approveId).not.toBe(brokenId);

    // fastify's own lines: the same id on "incoming request" and "request completed", and the URL without its query.
    const withQuery = await fetch(`${gw.url}/healthz?hub.verify_token=verify-secret-0123456789`);
    const healthId = withQuery.headers.get("x-request-id");
    const completed = await until(
      () => log.lines().find((line) => line.message === "request completed" && line.requestId === healthId),
      "request completed",
      15_000,
    );
    expect(completed.res).toMatchObject({ statusCode: 200 });
    expect(
      log.lines().find((line) => line.message === "incoming request" && line.requestId === healthId)?.req,
    ).toMatchObject({ method: "GET", url: "/healthz?…" });
    expect(log.text()).not.toContain("verify-secret-0123456789");
    expect(log.text()).not.toContain(OWNER_TOKEN);
    expect(log.text()).not.toContain("ABCD-EFGH");
  });

  it("every WebSocket connection gets an id of its own, on every line it logs; a refused upgrade's line has one too", async () => {
    const log = captured();
    gw = await startGateway({
      logger: log.logger,
      agent: () => {
        throw new Error("model down");
      },
    });
    const first = await connectWithToken(gw.wsUrl, USER_TOKEN);
    const second = await connectWithToken(gw.wsUrl, USER_TOKEN);
    sockets.push(first.socket, second.socket);
    expect((await first.socket.request("a", "chat.send", { text: "one" })).ok).toBe(false);
    expect((await second.socket.request("b", "chat.send", { text: "two" })).ok).toBe(false);
    expect((await first.socket.request("c", "chat.send", { text: "three" })).ok).toBe(false);
    const failures = await until(
      () => {
        const found = log.lines().filter((line) => line.message === "agent failed");
        return found.length === 3 ? found : undefined;
      },
      "three agent failures",
      15_000,
    );
    for (const line of failures) expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failures[0]!.requestId).toBe(failures[2]!.requestId);
    expect(failures[0]!.requestId).not.toBe(failures[1]!.requestId);

    await expect(TestSocket.open(gw.wsUrl, { headers: { origin: "https://evil.example" } })).rejects.toThrow(/403/);
    const refused = await until(
      () => log.lines().find((line) => line.message === "websocket refused: origin not allowed"),
      "the refusal line",
      15_000,
    );
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.text()).not.toContain(USER_TOKEN);
  });
});
