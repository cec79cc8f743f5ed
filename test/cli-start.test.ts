import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { cliWorkspace, runGatehouse, startGatehouse } from "./cli-helpers.js";
import { makeKeyDevice, signChallenge } from "./support/key-device.js";

type Frame = Record<string, unknown> & { type: string };

/** A WebSocket client that keeps every frame so a test can wait for the one it expects. */
async function connect(
  url: string,
): Promise<{ socket: WebSocket; next(match: (f: Frame) => boolean, what: string): Promise<Frame>; frames: Frame[] }> {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return {
    socket,
    frames,
    next: (match, what) =>
      new Promise<Frame>((resolve, reject) => {
        const seen = frames.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no ${what} frame; got ${JSON.stringify(frames)}`)), 10_000);
        waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      }),
  };
}

const ws = cliWorkspace();
afterAll(() => ws.cleanup());

describe("gatehouse start (child process)", () => {
  it("prints the owner token once, serves /healthz, and sees a CLI approval made in another process", async () => {
    const gateway = await startGatehouse([...ws.args, "--port", "0"]);
    let failure: unknown;
    try {
      expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(gateway.output()).toContain(`Console: ${gateway.url}/console`);
      const token = gateway.token;
      expect(token).toMatch(/^gh_/);
      expect(gateway.output().split(token as string)).toHaveLength(2);

      const health = await fetch(`${gateway.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true });
      expect((await fetch(`${gateway.url}/api/pairing/pending`)).status).toBe(401);
      const pending = await fetch(`${gateway.url}/api/pairing/pending`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(pending.status).toBe(200);

      // A token minted and revoked by the CLI in other processes works, then stops working, in the running gateway.
      const minted = await runGatehouse(["token", "create", "--role", "admin", "--json", ...ws.args]);
      expect(minted.code, minted.stderr).toBe(0);
      const admin = JSON.parse(minted.stdout) as { id: string; token: string };
      const asAdmin = () =>
        fetch(`${gateway.url}/api/pairing/paired`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect((await asAdmin()).status).toBe(200);
      expect((await runGatehouse(["token", "revoke", admin.id, ...ws.args])).code).toBe(0);
      expect((await asAdmin()).status).toBe(401);

      const owner = await connect(gateway.url);
      owner.socket.send(JSON.stringify({ type: "connect", params: { token } }));
      expect(await owner.next((f) => f.type === "hello", "owner hello")).toMatchObject({
        principal: { userId: "owner", role: "owner" },
      });

      // A new data directory requires device keys: the browser proves its key first.
      const key = makeKeyDevice();
      const device = await connect(gateway.url);
      device.socket.send(
        JSON.stringify({
          type: "connect",
          params: { deviceId: key.deviceId, publicKey: key.publicKey, name: "Test Browser" },
        }),
      );
      const challenge = (await device.next((f) => f.type === "challenge", "challenge")) as Frame & {
        nonce: string;
        audience: string;
        expiresAt: number;
      };
      device.socket.send(JSON.stringify({ type: "proof", params: { signature: signChallenge(key, challenge) } }));
      const { code } = (await device.next((f) => f.type === "pairing", "pairing")) as Frame & { code: string };
      expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);

      const approve = await runGatehouse(["pairing", "approve", "webchat", code, ...ws.args]);
      expect(approve.code, approve.stderr).toBe(0);
      const approvedAt = Date.now();
      await device.next((f) => f.type === "event" && f.event === "pairing.approved", "device pairing.approved");
      const hello = await device.next((f) => f.type === "hello", "device hello");
      const ownerEvent = await owner.next(
        (f) => f.type === "event" && f.event === "pairing.approved",
        "owner pairing.approved",
      );
      // Reported, not asserted (no timing assertions in tests): how long the running gateway took to see the CLI's decision.
      console.info(`pairing.approved reached the sockets ${Date.now() - approvedAt} ms after the CLI exited`);
      expect(hello).toMatchObject({ principal: { userId: key.deviceId, role: "user" } });
      expect(ownerEvent).toMatchObject({
        payload: { type: "approved", channelType: "webchat", channelId: key.deviceId },
      });

      device.socket.send(
        JSON.stringify({ type: "req", id: "1", method: "chat.send", params: { text: "hello there" } }),
      );
      const reply = await device.next((f) => f.type === "res" && f.id === "1", "chat reply");
      expect(reply).toMatchObject({ ok: true, payload: { text: "echo: hello there" } });
      owner.socket.close();
      device.socket.close();
    } catch (error) {
      failure = error;
    }
    const exit = await gateway.stop();
    if (failure) throw failure;
    expect(exit, gateway.output()).toBe(0);
    expect(gateway.output()).not.toMatch(/"level":"error"/);
  }, 60_000);

  it("does not mint or print another token on the next start", async () => {
    const again = await startGatehouse([...ws.args, "--port", "0"]);
    const exit = await again.stop();
    expect(again.token).toBeUndefined();
    expect(again.output()).not.toContain("First start");
    expect(again.output()).not.toMatch(/gh_[A-Za-z0-9_-]{43}/);
    expect(exit, again.output()).toBe(0);
  }, 60_000);

  it("refuses a bad port or config with exit 2 before opening anything", async () => {
    const [badPort, badEnv] = await Promise.all([
      runGatehouse(["start", "--port", "http", ...ws.args]),
      runGatehouse(["start", ...ws.args], { env: { GATEHOUSE_POLICY: "everyone" } }),
    ]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port");
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("GATEHOUSE_POLICY");
  }, 60_000);
});
