/**
 * Webchat devices prove their key (issue 19): pairing binds the key, not a name. On SQLite and on one Redis shared by
 * two gateway instances: a key device pairs and stays paired on either instance; a client that knows only a paired
 * device's id is refused; signatures over another nonce, another audience, another expiry or past the expiry are
 * refused; a revoke on one instance closes the device's socket on the other; the Node example in examples/device.ts works.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWNER_TOKEN, startGateway, TestSocket, type TestGateway } from "./gateway-helpers.js";
import { allBackends } from "./support/backends.js";
import { connectKeyDevice, makeKeyDevice, signChallenge, type KeyDevice } from "./support/key-device.js";

const root = resolve(import.meta.dirname, "..");

const backends = (await allBackends()).filter((b) => b.name === "sqlite" || b.name === "redis");
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});

/** Connects `device`, approves its code through `approver`'s HTTP API and resolves with the socket after hello. */
async function pairDevice(on: TestGateway, approver: TestGateway, device: KeyDevice): Promise<TestSocket> {
  const { socket, first } = await connectKeyDevice(on.wsUrl, device, { name: "Key Device" });
  expect(first.type).toBe("pairing");
  const approved = await approver.api("POST", "/api/pairing/approve", {
    token: OWNER_TOKEN,
    body: { channelType: "webchat", code: first.code },
  });
  expect(approved.body).toEqual({ approved: true });
  const hello = await socket.nextOfType("hello", 10_000);
  expect(hello.principal).toEqual({ userId: device.deviceId, role: "user" });
  return socket;
}

async function expectRefused(
  socket: TestSocket,
  first: { type?: unknown; error?: { code?: unknown; message?: unknown } },
  message: RegExp,
): Promise<void> {
  expect(first.type).toBe("error");
  expect(first.error?.code).toBe("unauthenticated");
  expect(String(first.error?.message)).toMatch(message);
  expect((await socket.closed).code).toBe(4401);
}

for (const backend of backends) {
  describe(`webchat device proof on ${backend.name}, two gateway instances`, () => {
    let store: string | null = null;
    let a: TestGateway;
    let b: TestGateway;
    /** A third instance whose challenges expire after 1 ms: every answer is late. */
    let late: TestGateway;
    const sockets: TestSocket[] = [];
    const track = <T extends { socket: TestSocket }>(value: T): T => {
      sockets.push(value.socket);
      return value;
    };

    beforeAll(async () => {
      if (!backend.available) return;
      store = backend.freshUrl();
      const shared = {
        storeKind: { name: backend.name, make: () => ({ url: store!, cleanup() {} }) },
        deviceProof: "required" as const,
      };
      // Every device here comes from 127.0.0.1: the per-address budget of new requests would stop the tenth.
      const websocket = { webchatRequestLimit: false as const };
      a = await startGateway({ ...shared, websocket });
      b = await startGateway({ ...shared, websocket });
      late = await startGateway({ ...shared, websocket: { ...websocket, deviceChallengeTtlMs: 1 } });
    }, 30_000);

    afterAll(async () => {
      for (const socket of sockets) socket.ws.terminate();
      await Promise.all([a?.stop(), b?.stop(), late?.stop()]);
    });

    it("a key device pairs on one instance and is let in on the other without pairing again", async ({ skip }) => {
      if (!store) return skip();
      const device = makeKeyDevice();
      sockets.push(await pairDevice(a, b, device));
      const again = track(await connectKeyDevice(b.wsUrl, device));
      expect(again.first.type).toBe("hello");
      expect(again.challenge.audience).toBe(new URL(b.url).host);
      expect(again.challenge.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const reply = await again.socket.request("c1", "chat.send", { text: "hello" });
      expect(reply.ok).toBe(true);
    });

    it("an ECDSA P-256 key device (as browsers without Ed25519 make) pairs too", async ({ skip }) => {
      if (!store) return skip();
      const device = makeKeyDevice("p256");
      sockets.push(await pairDevice(b, a, device));
      expect(track(await connectKeyDevice(a.wsUrl, device)).first.type).toBe("hello");
    });

    it("a client that knows only a paired device's id is refused, with or without a key of its own", async ({
      skip,
    }) => {
      if (!store) return skip();
      const victim = makeKeyDevice();
      sockets.push(await pairDevice(a, a, victim));
      for (const gw of [a, b]) {
        const idOnly = await TestSocket.open(gw.wsUrl);
        sockets.push(idOnly);
        idOnly.send({ type: "connect", params: { deviceId: victim.deviceId, name: "Impostor" } });
        await expectRefused(idOnly, await idOnly.nextOfType("error"), /belongs to a key/);
        const ownKey = await TestSocket.open(gw.wsUrl);
        sockets.push(ownKey);
        ownKey.send({ type: "connect", params: { deviceId: victim.deviceId, publicKey: makeKeyDevice().publicKey } });
        await expectRefused(ownKey, await ownKey.nextOfType("error"), /does not match publicKey/);
      }
      // Nothing was queued for the owner by the impostors.
      const pending = await a.api("GET", "/api/pairing/pending?channelType=webchat", { token: OWNER_TOKEN });
      expect(pending.body.pending.filter((p: { channelId: string }) => p.channelId === victim.deviceId)).toEqual([]);
    });

    it("a signature replayed from an earlier connect (another nonce) is refused", async ({ skip }) => {
      if (!store) return skip();
      const device = makeKeyDevice();
      sockets.push(await pairDevice(a, a, device));
      const earlier = track(await connectKeyDevice(a.wsUrl, device));
      expect(earlier.first.type).toBe("hello");
      const oldSignature = signChallenge(device, {
        nonce: earlier.challenge.nonce,
        audience: earlier.challenge.audience,
        expiresAt: earlier.challenge.expiresAt,
      });
      const socket = await TestSocket.open(b.wsUrl);
      sockets.push(socket);
      socket.send({ type: "connect", params: { deviceId: device.deviceId, publicKey: device.publicKey } });
      const challenge = await socket.nextOfType("challenge");
      expect(challenge.nonce).not.toBe(earlier.challenge.nonce);
      socket.send({ type: "proof", params: { signature: oldSignature } });
      await expectRefused(socket, await socket.nextOfType("error"), /does not verify/);
    });

    it.each([
      [
        "another nonce",
        (c: { nonce: string; audience: string; expiresAt: number }) => ({
          ...c,
          nonce: makeKeyDevice().deviceId.slice(4),
        }),
      ],
      [
        "another audience (origin)",
        (c: { nonce: string; audience: string; expiresAt: number }) => ({ ...c, audience: "gateway.example:443" }),
      ],
      [
        "a later expiry than issued",
        (c: { nonce: string; audience: string; expiresAt: number }) => ({ ...c, expiresAt: c.expiresAt + 60_000 }),
      ],
    ])("a signature over %s is refused", async (_what, tamper) => {
      if (!store) return;
      const device = makeKeyDevice();
      sockets.push(await pairDevice(a, a, device));
      const { socket, first } = track(await connectKeyDevice(b.wsUrl, device, { tamper }));
      await expectRefused(socket, first, /does not verify/);
    });

    it("an answer after the challenge's expiry is refused, even with the right signature", async ({ skip }) => {
      if (!store) return skip();
      const device = makeKeyDevice();
      sockets.push(await pairDevice(a, a, device));
      const { socket, first } = track(await connectKeyDevice(late.wsUrl, device, { delayMs: 50 }));
      await expectRefused(socket, first, /expired/);
    });

    it.each([
      ["not base64url", "not base64!", /expected base64url/],
      ["not a key", Buffer.from("hello").toString("base64url"), /not an SPKI public key/],
      [
        "standard base64 (with +), not base64url",
        "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ",
        /expected base64url/,
      ],
    ])("a publicKey that is %s is refused with the reason and no challenge", async (_what, publicKey, reason) => {
      if (!store) return;
      const socket = await TestSocket.open(a.wsUrl);
      sockets.push(socket);
      socket.send({ type: "connect", params: { publicKey } });
      await expectRefused(socket, await socket.next((f) => f.type === "error" || f.type === "challenge"), reason);
    });

    it("an RSA public key (valid SPKI, wrong algorithm) is refused", async ({ skip }) => {
      if (!store) return skip();
      const { generateKeyPairSync } = await import("node:crypto");
      const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 })
        .publicKey.export({ format: "der", type: "spki" })
        .toString("base64url");
      const socket = await TestSocket.open(a.wsUrl);
      sockets.push(socket);
      socket.send({ type: "connect", params: { publicKey: rsa } });
      await expectRefused(
        socket,
        await socket.next((f) => f.type === "error" || f.type === "challenge"),
        /Ed25519 or ECDSA P-256/,
      );
    });

    it("refuses name-only devices while deviceProof is required", async ({ skip }) => {
      if (!store) return skip();
      const socket = await TestSocket.open(a.wsUrl);
      sockets.push(socket);
      socket.send({ type: "connect", params: { deviceId: "legacy-device-0123456789" } });
      await expectRefused(socket, await socket.nextOfType("error"), /requires device keys/);
    });

    it("revoking a key device on one instance closes its socket on the other", async ({ skip }) => {
      if (!store) return skip();
      const device = makeKeyDevice();
      const socket = await pairDevice(a, a, device);
      sockets.push(socket);
      const revoked = await b.api("DELETE", `/api/pairing/paired/webchat/${device.deviceId}`, { token: OWNER_TOKEN });
      expect(revoked.body).toEqual({ revoked: true });
      expect((await socket.closed).code).toBe(4403);
      const again = track(await connectKeyDevice(b.wsUrl, device));
      expect(again.first.type).toBe("pairing");
    });

    it("the Node example in examples/device.ts pairs, and with its key file comes back paired", async ({ skip }) => {
      if (!store) return skip();
      const dir = mkdtempSync(join(tmpdir(), "gh-device-example-"));
      try {
        const keyFile = join(dir, "device-key.pem");
        const first = runExample(a.wsUrl, keyFile);
        const code = await first.lineMatching(/^pairing code: (\S+)/);
        const approved = await b.api("POST", "/api/pairing/approve", {
          token: OWNER_TOKEN,
          body: { channelType: "webchat", code },
        });
        expect(approved.body).toEqual({ approved: true });
        await first.lineMatching(/^(admitted)$/);
        expect(await first.exit).toBe(0);
        const second = runExample(b.wsUrl, keyFile);
        await second.lineMatching(/^(admitted)$/);
        expect(await second.exit).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);

    it("the Node example printed in the protocol docs (src/gateway/README.md) pairs as written", async ({ skip }) => {
      if (!store) return skip();
      const readme = readFileSync(join(root, "src/gateway/README.md"), "utf8");
      const block = /Its core, with nothing but[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(block).toContain('sign(null, Buffer.from(message, "utf8"), privateKey)');
      const artifacts = join(root, "test/artifacts");
      mkdirSync(artifacts, { recursive: true });
      const file = join(artifacts, `device-doc-example-${backend.name}.ts`);
      writeFileSync(file, block!.replace('"ws://127.0.0.1:8787/ws"', JSON.stringify(b.wsUrl)));
      const run = runScript(file, []);
      const code = await run.lineMatching(/^pairing code: (\S+)/);
      const approved = await a.api("POST", "/api/pairing/approve", {
        token: OWNER_TOKEN,
        body: { channelType: "webchat", code },
      });
      expect(approved.body).toEqual({ approved: true });
      await run.lineMatching(/^(admitted)$/);
      expect(await run.exit).toBe(0);
    }, 60_000);
  });
}

function runExample(wsUrl: string, keyFile: string): ReturnType<typeof runScript> {
  return runScript(join(root, "examples/device.ts"), [wsUrl, keyFile]);
}

/** Runs a TypeScript file with tsx; `lineMatching` resolves with the first capture of the first stdout line that matches. */
function runScript(
  file: string,
  args: string[],
): { lineMatching(pattern: RegExp): Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), file, ...args], { cwd: root });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (value: string) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(line);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match[1] ?? line);
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill(), 30_000);
  void exit.then(() => clearTimeout(timer));
  return {
    exit,
    lineMatching(pattern) {
      const seen = lines.map((line) => pattern.exec(line)).find((match) => match !== null);
      if (seen) return Promise.resolve(seen[1] ?? seen[0]);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exit.then((code) =>
          reject(
            new Error(`the example exited (${code}) before printing ${pattern}; it printed: ${lines.join(" | ")}`),
          ),
        );
      });
    },
  };
}
