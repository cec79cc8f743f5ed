/**
 * The multi-instance scenario, run once per shared backend: two `gatehouse start` processes on two ports over one
 * Redis / PostgreSQL namespace. A sender asks through A, the owner approves through B, both admit the sender; the
 * approval reaches owners connected to A; 50 concurrent approvals of one code over both instances succeed once.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { connectWithToken, TestSocket, type Frame } from "../gateway-helpers.js";
import {
  mintOwnerToken,
  newGatewaySecret,
  startGatewayProcess,
  type GatewayProcess,
  type SharedBackend,
} from "./multi-gateway.js";

/** How fast an approval made on one instance must reach a sender waiting on the other (the "within a second"). */
const CROSS_INSTANCE_MS = 1_000;
const CONCURRENT_APPROVALS = 50;

/** A webchat sender with a fresh device id connects token-less; resolves with its socket and the first frame. */
async function webchatSender(
  wsUrl: string,
  deviceId = `dev-${randomUUID()}`,
): Promise<{ socket: TestSocket; first: Frame; deviceId: string }> {
  const socket = await TestSocket.open(wsUrl);
  socket.send({ type: "connect", params: { deviceId, name: "Multi Tester" } });
  const first = await socket.next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", 10_000);
  return { socket, first, deviceId };
}

function isEventFor(name: string, deviceId: string) {
  return (f: Frame): boolean =>
    f.type === "event" && f.event === name && f.payload?.channelType === "webchat" && f.payload?.channelId === deviceId;
}

export function describeMultiInstance(backend: SharedBackend, available: boolean): void {
  if (!available) {
    describe.skip(`two gateway processes sharing one ${backend.name} (no server at ${backend.server}; CI=true makes this a failure)`, () => {
      it("needs the server", () => undefined);
    });
    return;
  }

  describe(`two gateway processes sharing one ${backend.name}`, () => {
    const secret = newGatewaySecret();
    const opened: TestSocket[] = [];
    let a: GatewayProcess;
    let b: GatewayProcess;
    let ownerToken: string;

    const track = (socket: TestSocket): TestSocket => {
      opened.push(socket);
      return socket;
    };

    beforeAll(async () => {
      const storeUrl = backend.freshUrl();
      ownerToken = await mintOwnerToken(storeUrl, secret);
      // Started together, as a deployment would: the store's set-up (migrations, scripts) must cope with the race.
      const started = await Promise.allSettled([
        startGatewayProcess(storeUrl, secret),
        startGatewayProcess(storeUrl, secret),
      ]);
      const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) {
        await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
        throw failed.reason;
      }
      [a, b] = started.map((s) => (s as PromiseFulfilledResult<GatewayProcess>).value) as [
        GatewayProcess,
        GatewayProcess,
      ];
    }, 60_000);

    afterAll(async () => {
      for (const socket of opened) socket.close();
      const codes = await Promise.all([a?.stop(), b?.stop()]);
      await backend.cleanup();
      // A clean SIGTERM stop exits 0; anything else (a crash along the way) is a failure.
      for (const [i, code] of codes.entries()) {
        if (code !== undefined)
          assert.equal(code, 0, `instance ${i === 0 ? "A" : "B"} exited with ${String(code)}:\n${[a, b][i]?.output()}`);
      }
    }, 30_000);

    it("runs as two processes on two ports", () => {
      assert.notEqual(a.pid, b.pid);
      assert.notEqual(new URL(a.url).port, new URL(b.url).port);
    });

    it("an owner token minted once in the shared store works on both instances; a wrong token works on neither", async () => {
      for (const instance of [a, b]) {
        const ok = await instance.api("GET", "/api/pairing/paired", { token: ownerToken });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.ok(Array.isArray(ok.body.paired));
        const wrong = await instance.api("GET", "/api/pairing/paired", { token: `${ownerToken.slice(0, -4)}AAAA` });
        assert.equal(wrong.status, 401);
        const health = await instance.api("GET", "/healthz");
        assert.deepEqual(health, { status: 200, body: { ok: true, stores: { pairing: "ok", sessions: "ok" } } });
      }
    });

    it("a sender who asks through A and is approved through B is let in by both, and owners on both hear about it", async () => {
      const ownerOnA = track((await connectWithToken(a.wsUrl, ownerToken)).socket);
      const ownerOnB = track((await connectWithToken(b.wsUrl, ownerToken)).socket);

      const sender = await webchatSender(a.wsUrl);
      track(sender.socket);
      assert.equal(sender.first.type, "pairing", JSON.stringify(sender.first));
      const code = sender.first.code as string;
      assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);

      // Not let in before the approval, on either instance.
      const early = await sender.socket.request("early", "chat.send", { text: "let me in" });
      assert.equal(early.ok, false);
      assert.equal(early.error.code, "forbidden");
      const elsewhere = await webchatSender(b.wsUrl, sender.deviceId);
      track(elsewhere.socket);
      assert.equal(elsewhere.first.type, "pairing", "B must not admit a sender nobody approved");
      assert.equal(elsewhere.first.code, code, "B reports the same pending request, not a second one");

      // The request made on A reaches the owner connected to B (store events cross instances).
      await ownerOnB.next(isEventFor("pairing.requested", sender.deviceId), 5_000);
      const pendingOnB = await b.api("GET", "/api/pairing/pending?channelType=webchat", { token: ownerToken });
      assert.equal(pendingOnB.status, 200);
      assert.ok(
        pendingOnB.body.pending.some(
          (p: { channelId: string; code: string }) => p.channelId === sender.deviceId && p.code === code,
        ),
        "B lists the request made through A",
      );

      const approval = await b.api("POST", "/api/pairing/approve", {
        token: ownerToken,
        body: { channelType: "webchat", code },
      });
      assert.deepEqual(approval, { status: 200, body: { approved: true } });

      // Within a second the socket waiting on A hears of it and is let in; so is the one waiting on B.
      const approvedEvent = await sender.socket.next(
        (f) => f.type === "event" && f.event === "pairing.approved",
        CROSS_INSTANCE_MS,
      );
      assert.equal(approvedEvent.type, "event");
      const hello = await sender.socket.nextOfType("hello", CROSS_INSTANCE_MS);
      assert.deepEqual(hello.principal, { userId: sender.deviceId, role: "user" });
      const helloOnB = await elsewhere.socket.nextOfType("hello", CROSS_INSTANCE_MS);
      assert.notEqual(helloOnB.sessionId, hello.sessionId, "each socket gets its own session");

      // The owner connected to A receives the approval made through B, naming who approved it.
      const ownerEvent = await ownerOnA.next(isEventFor("pairing.approved", sender.deviceId), CROSS_INSTANCE_MS);
      assert.equal(ownerEvent.payload.actor, "owner");
      assert.ok(!JSON.stringify(ownerEvent).includes(code), "the approval event does not carry the code");

      // The sender's next message on A is answered by the agent.
      const reply = await sender.socket.request("after", "chat.send", { text: "hello from A" });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply.payload.text, "echo: hello from A");

      // Both instances now admit the device straight away: a new connection gets hello, no pairing step.
      for (const instance of [a, b]) {
        const again = await webchatSender(instance.wsUrl, sender.deviceId);
        track(again.socket);
        assert.equal(
          again.first.type,
          "hello",
          `${instance === a ? "A" : "B"} admits the approved sender: ${JSON.stringify(again.first)}`,
        );
        const answered = await again.socket.request("again", "chat.send", { text: "still me" });
        assert.equal(answered.payload?.text, "echo: still me");
      }
      for (const instance of [a, b]) {
        const paired = await instance.api("GET", "/api/pairing/paired", { token: ownerToken });
        assert.ok(
          paired.body.paired.some(
            (p: { channelType: string; channelId: string }) =>
              p.channelType === "webchat" && p.channelId === sender.deviceId,
          ),
        );
      }
    });

    it(`${CONCURRENT_APPROVALS} concurrent approvals of one code spread over both instances succeed exactly once`, async () => {
      const sender = await webchatSender(b.wsUrl);
      track(sender.socket);
      assert.equal(sender.first.type, "pairing");
      const code = sender.first.code as string;

      const replies = await Promise.all(
        Array.from({ length: CONCURRENT_APPROVALS }, (_, i) =>
          (i % 2 === 0 ? a : b).api("POST", "/api/pairing/approve", {
            token: ownerToken,
            body: { channelType: "webchat", code },
          }),
        ),
      );
      const statuses = replies.map((r) => r.status);
      assert.deepEqual(
        [...new Set(statuses)],
        [200],
        `every approval call is answered normally: ${JSON.stringify(replies.filter((r) => r.status !== 200))}`,
      );
      const approved = replies.filter((r) => r.body.approved === true);
      const refused = replies.filter((r) => r.body.approved === false);
      assert.equal(approved.length, 1, "exactly one approval consumes the code");
      assert.equal(refused.length, CONCURRENT_APPROVALS - 1);
      // The one winner admitted the waiting sender, and the audit log agrees.
      await sender.socket.nextOfType("hello", 5_000);
      const audit = await a.api("GET", "/api/audit?limit=500", { token: ownerToken });
      assert.equal(audit.status, 200);
      const approvals = audit.body.events.filter(
        (e: Frame) => e.type === "approved" && e.channelId === sender.deviceId,
      );
      assert.equal(approvals.length, 1, "the audit log records one approval");
    });
  });
}
