/**
 * The gateway-level outage scenario, run once per backend: a gateway (in this process, so unhandled rejections are
 * seen) over a Redis / PostgreSQL server the test started itself; the server is killed mid-run and started again on
 * the same port with the same data. While it is down the gateway fails closed and says so; afterwards it recovers
 * without a restart and keeps every approval made before the outage.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { OWNER_TOKEN, startGateway, TestSocket, type Frame, type TestGateway } from "../gateway-helpers.js";
import { TempPostgres } from "../postgres-server.js";
import { PrivateRedis } from "../redis-support.js";
import { until } from "./until.js";

/** A store server of the test's own, which it may kill and start again on the same port with the same data. */
export interface OwnServer {
  storeUrl: string;
  /** Every server process stops answering (SIGSTOP) while its sockets stay open: a hung server. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Kills the server abruptly (no clean shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port over the same data. */
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export interface OutageBackend {
  name: "redis" | "postgres";
  start(): Promise<OwnServer>;
}

/** redis-server with an append-only file (fsync per write), killed with SIGKILL. */
export const ownRedis: OutageBackend = {
  name: "redis",
  async start() {
    const dataDir = mkdtempSync(join(tmpdir(), "gh-outage-redis-"));
    const server = await PrivateRedis.start({ dataDir });
    return {
      storeUrl: `${server.url}?prefix=gh-outage`,
      freeze: async () => server.pause(),
      thaw: async () => server.resume(),
      kill: () => server.stop(),
      restart: () => server.start(),
      destroy: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

/** A throwaway PostgreSQL cluster, stopped with `pg_ctl stop -m immediate` (a crash, recovered from on start). */
export const ownPostgres: OutageBackend = {
  name: "postgres",
  async start() {
    const server = await TempPostgres.start();
    return {
      storeUrl: `${server.url}?schema=gh_outage`,
      freeze: () => server.freeze(),
      thaw: () => server.thaw(),
      kill: () => server.stop("immediate"),
      restart: () => server.startAgain(),
      destroy: () => server.destroy(),
    };
  },
};

/** A token-less webchat device; resolves with its socket and the first frame it got (or its close). */
async function webchatConnect(wsUrl: string, deviceId: string): Promise<{ socket: TestSocket; first: Frame }> {
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { deviceId } });
  const first = await socket.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000);
  return { socket, first };
}

const device = (label: string): string => `dev-${label}-${randomUUID()}`;
const UNAVAILABLE = /temporarily unavailable/i;

export function describeGatewayOutage(backend: OutageBackend): void {
  describe(`gateway over ${backend.name}: the server dies mid-run and comes back`, () => {
    let server: OwnServer;
    let gw: TestGateway;
    const sockets: TestSocket[] = [];
    const problems: unknown[] = [];
    const onProblem = (error: unknown): void => {
      problems.push(error);
    };
    const track = <T extends { socket: TestSocket }>(opened: T): T => {
      sockets.push(opened.socket);
      return opened;
    };
    const approve = (code: string) =>
      gw.api("POST", "/api/pairing/approve", { token: OWNER_TOKEN, body: { channelType: "webchat", code } });

    // Shared by the steps below, which run in order.
    const paired = device("paired");
    const connectedPaired = device("connected");
    const waiting = device("waiting");
    let openPairedSocket: TestSocket;
    let waitingSocket: TestSocket;
    let waitingCode: string;

    beforeAll(async () => {
      process.on("unhandledRejection", onProblem);
      process.on("uncaughtException", onProblem);
      server = await backend.start();
      gw = await startGateway({
        storeKind: { name: backend.name, make: () => ({ url: server.storeUrl, cleanup() {} }) },
      });
    }, 60_000);

    afterAll(async () => {
      for (const socket of sockets) socket.close();
      await gw?.stop();
      await server?.destroy();
      process.off("unhandledRejection", onProblem);
      process.off("uncaughtException", onProblem);
    }, 30_000);

    it("before the outage: two senders are approved, a third waits for approval", async () => {
      assert.equal((await gw.api("GET", "/healthz")).status, 200);
      for (const id of [paired, connectedPaired]) {
        const { socket, first } = track(await webchatConnect(gw.wsUrl, id));
        assert.equal(first.type, "pairing");
        assert.deepEqual(await approve(first.code as string), { status: 200, body: { approved: true } });
        await socket.nextOfType("hello");
        if (id === connectedPaired) openPairedSocket = socket;
        else socket.close();
      }
      const waitingOne = track(await webchatConnect(gw.wsUrl, waiting));
      assert.equal(waitingOne.first.type, "pairing");
      waitingSocket = waitingOne.socket;
      waitingCode = waitingOne.first.code as string;
    });

    it(`while ${backend.name} hangs (SIGSTOP): every check gives up at its deadline and fails closed, then recovers`, async () => {
      await server.freeze();
      try {
        openPairedSocket.send({ type: "req", id: "hung", method: "chat.send", params: { text: "hello?" } });
        const [health, stranger, returning, refused] = await Promise.all([
          gw.api("GET", "/healthz"),
          webchatConnect(gw.wsUrl, device("stranger-hung")).then(track),
          webchatConnect(gw.wsUrl, paired).then(track),
          openPairedSocket.next((f) => f.type === "res" && f.id === "hung", 10_000),
        ]);
        assert.equal(health.status, 503, JSON.stringify(health.body));
        assert.deepEqual(health.body.stores, { pairing: "down", sessions: "down" });
        assert.equal(
          stranger.first.type,
          "error",
          `an unknown sender is not let in: ${JSON.stringify(stranger.first)}`,
        );
        assert.equal(stranger.first.error.code, "unavailable");
        assert.equal(
          returning.first.type,
          "error",
          `no hello while the store hangs: ${JSON.stringify(returning.first)}`,
        );
        assert.match(returning.first.error.message, UNAVAILABLE);
        assert.equal((await returning.socket.closed).code, 1013);
        assert.equal(refused.ok, false, JSON.stringify(refused));
        assert.equal(refused.error.code, "unavailable");
        assert.match(refused.error.message, UNAVAILABLE);
      } finally {
        await server.thaw();
      }
      await until(
        async () => (await gw.api("GET", "/healthz")).status === 200,
        "healthz to recover from the hang",
        20_000,
      );
      const back = track(await webchatConnect(gw.wsUrl, paired));
      assert.equal(back.first.type, "hello", JSON.stringify(back.first));
      assert.deepEqual(problems, [], "no unhandled rejection or uncaught exception");
    });

    it(`while ${backend.name} is down: healthz is 503 naming it, nobody new gets in, paired senders are told it is temporarily unavailable`, async () => {
      await server.kill();

      let health = await gw.api("GET", "/healthz");
      await until(
        async () => (health = await gw.api("GET", "/healthz")).status === 503,
        "healthz to report the outage",
        10_000,
      );
      assert.deepEqual(health.body.stores, { pairing: "down", sessions: "down" });
      assert.equal(health.body.ok, false);
      assert.ok(
        health.body.error.message.includes(backend.name),
        `healthz names ${backend.name}: ${JSON.stringify(health.body)}`,
      );

      // An unknown sender: neither admitted nor given a code; told to come back later.
      const stranger = track(await webchatConnect(gw.wsUrl, device("stranger")));
      assert.equal(stranger.first.type, "error", `an unknown sender is not let in: ${JSON.stringify(stranger.first)}`);
      assert.equal(stranger.first.error.code, "unavailable");
      const strangerClosed = await stranger.socket.closed;
      assert.equal(strangerClosed.code, 1013);
      assert.match(strangerClosed.reason, UNAVAILABLE);

      // A paired sender connecting now: refused with a clear "temporarily unavailable", never a hello.
      const returning = track(await webchatConnect(gw.wsUrl, paired));
      assert.equal(returning.first.type, "error");
      assert.match(returning.first.error.message, UNAVAILABLE);
      const returningClosed = await returning.socket.closed;
      assert.equal(returningClosed.code, 1013);
      assert.match(returningClosed.reason, UNAVAILABLE);

      // A paired sender already connected: the chat message is refused, saying why.
      const refused = await openPairedSocket.request("during", "chat.send", { text: "are you there?" });
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assert.equal(refused.error.code, "unavailable");
      assert.match(refused.error.message, UNAVAILABLE);

      // The owner cannot approve anything meanwhile (nothing changes), and is told why.
      const approval = await approve(waitingCode);
      assert.equal(approval.status, 503);
      assert.equal(approval.body.error.code, "unavailable");
      assert.equal((await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN })).status, 503);

      assert.deepEqual(problems, [], "no unhandled rejection or uncaught exception");
    });

    it(`after ${backend.name} returns: the gateway recovers without a restart and nothing approved before is lost`, async () => {
      await server.restart();
      await until(async () => (await gw.api("GET", "/healthz")).status === 200, "healthz to recover", 20_000);

      // Approved before the outage, still paired: a new connection is let straight in and answered.
      const back = track(await webchatConnect(gw.wsUrl, paired));
      assert.equal(back.first.type, "hello", JSON.stringify(back.first));
      const answer = await back.socket.request("back", "chat.send", { text: "back again" });
      assert.equal(answer.payload?.text, "echo: back again");

      // The socket that stayed open through the outage is answered again.
      const resumed = await openPairedSocket.request("after", "chat.send", { text: "still here" });
      assert.equal(resumed.ok, true, JSON.stringify(resumed));
      assert.equal(resumed.payload.text, "echo: still here");

      const list = await gw.api("GET", "/api/pairing/paired", { token: OWNER_TOKEN });
      assert.equal(list.status, 200);
      const pairedIds = list.body.paired
        .filter((p: Frame) => p.channelType === "webchat")
        .map((p: Frame) => p.channelId)
        .sort();
      assert.deepEqual(pairedIds, [paired, connectedPaired].sort());

      // The request left waiting survived too; approving it now reaches its socket through the recovered event feed.
      assert.deepEqual(await approve(waitingCode), { status: 200, body: { approved: true } });
      await waitingSocket.next((f) => f.type === "event" && f.event === "pairing.approved", 10_000);
      await waitingSocket.nextOfType("hello");

      // And a new sender can ask again.
      const newcomer = track(await webchatConnect(gw.wsUrl, device("newcomer")));
      assert.equal(newcomer.first.type, "pairing");

      assert.deepEqual(problems, [], "no unhandled rejection or uncaught exception");
      assert.equal(gw.logger.lines.filter((line) => line.includes(waitingCode)).length, 0, "no code was logged");
    });
  });
}
