/**
 * Soak: mixed traffic on one gateway (SQLite store, 1,000 paired devices) for GATEHOUSE_SOAK_MS (default 10 minutes):
 * new devices pairing and getting approved, requests denied, pairings revoked, paired devices reconnecting and chatting,
 * owner sockets coming and going. RSS, heap and event-loop delay are sampled every second. After warm-up there must be
 * no growth trend, and once the traffic stops no sockets or timers may be left behind.
 *
 *   npm run test:soak                       # 10 minutes
 *   GATEHOUSE_SOAK_MS=60000 npm run test:soak  # 1 minute
 */
import { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { randomInt } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import {
  connectWithToken,
  deviceId,
  OWNER_TOKEN,
  startGateway,
  STORE_KINDS,
  TestSocket,
  type TestGateway,
} from "../gateway-helpers.js";
import { newStats, webchatCycle, type LoadStats } from "../support/webchat-load.js";

const DURATION_MS = Number(process.env.GATEHOUSE_SOAK_MS ?? 10 * 60_000);
const PAIRED = 1_000;
const WARMUP_FRACTION = 0.2;

interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  loopP99Ms: number;
  sockets: number;
  timers: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function resources(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter((r) => r === "TCPSocketWrap").length,
    timers: info.filter((r) => r === "Timeout").length,
  };
}

/** Open TCP sockets as `server|client local->remote`, to tell a gateway-side leak from a test-client one. */
function describeSockets(gatewayPort: string): string {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is Socket => h instanceof Socket)
    .map(
      (s) =>
        `${String(s.localPort) === gatewayPort ? "server" : "client"} ${s.localPort}->${s.remotePort} ${s.readyState}`,
    )
    .join(", ");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

let gw: TestGateway | undefined;
afterAll(async () => {
  await gw?.stop();
});

it(
  `soak: ${Math.round(DURATION_MS / 1000)} s of mixed traffic on 1,000 paired devices`,
  async () => {
    gw = await startGateway({
      storeKind: STORE_KINDS[1],
      pairingRules: { maxPendingPerChannelType: 100_000, denyCooldownMs: 1 },
      websocket: {
        webchatRequestLimit: false,
        heartbeatMs: 5_000,
        rateLimit: { capacity: 1_000, refillPerSecond: 1_000 },
      },
    });
    const g = gw;
    const pairing = g.gateway.context.pairing;
    const paired: string[] = [];
    for (let i = 0; i < PAIRED; i++) {
      const id = deviceId(`seed${i}`);
      const code = await pairing.generateCode("webchat", id);
      await pairing.approve("webchat", code);
      paired.push(id);
    }
    expect((await pairing.listPaired()).length).toBe(PAIRED);

    const stats: LoadStats = newStats();
    const counts = { reconnects: 0, chats: 0, revokes: 0, denies: 0, ownerSockets: 0, problems: [] as string[] };
    const churned: string[] = [];
    let stop = false;

    const note = (what: string) => (error: unknown) =>
      void counts.problems.push(`${what}: ${String(error).slice(0, 160)}`);
    const workers: Array<() => Promise<void>> = [
      // Churn: new devices ask, get approved, reconnect; each is revoked again below, so the paired table stays near
      // 1,000 and the run measures a steady state (a growing table would grow every listing with it).
      async () => {
        const id = await webchatCycle(g, stats, "churn");
        if (id !== null) churned.push(id);
      },
      async () => {
        const id = await webchatCycle(g, stats, "churn");
        if (id !== null) churned.push(id);
      },
      // Revoke the churned devices.
      async () => {
        const id = churned.shift();
        if (!id) return void (await sleep(50));
        const response = await g.api("DELETE", `/api/pairing/paired/webchat/${id}`, { token: OWNER_TOKEN });
        if (response.status !== 200 || response.body.revoked !== true)
          counts.problems.push(`revoke: ${response.status}`);
        stats.approved.delete(id);
        counts.revokes += 1;
      },
      // Deny new requests.
      async () => {
        const socket = await TestSocket.open(g.wsUrl);
        try {
          socket.send({ type: "connect", params: { deviceId: deviceId("denied") } });
          const { code } = await socket.nextOfType("pairing");
          const response = await g.api("POST", "/api/pairing/deny", {
            token: OWNER_TOKEN,
            body: { channelType: "webchat", code },
          });
          if (response.body?.denied !== true) counts.problems.push(`deny: ${JSON.stringify(response.body)}`);
          await socket.closed;
          counts.denies += 1;
        } finally {
          socket.ws.terminate();
        }
      },
      // Paired devices reconnecting and chatting.
      async () => {
        const id = paired[randomInt(paired.length)]!;
        const socket = await TestSocket.open(g.wsUrl);
        try {
          socket.send({ type: "connect", params: { deviceId: id } });
          const hello = await socket.nextOfType("hello");
          if (hello.principal.userId !== id) counts.problems.push("reconnect: wrong principal");
          const reply = await socket.request(1, "chat.send", { text: "ping" });
          if (!reply.ok) counts.problems.push(`chat: ${JSON.stringify(reply.error)}`);
          counts.reconnects += 1;
          counts.chats += 1;
        } finally {
          socket.close();
          await socket.closed;
        }
      },
      async () => {
        const id = paired[randomInt(paired.length)]!;
        const socket = await TestSocket.open(g.wsUrl);
        socket.send({ type: "connect", params: { deviceId: id } });
        await socket.nextOfType("hello");
        counts.reconnects += 1;
        // Dropped without a close handshake, as a phone losing its network would.
        socket.ws.terminate();
      },
      // Owner sockets watching events, coming and going.
      async () => {
        const { socket } = await connectWithToken(g.wsUrl, OWNER_TOKEN);
        await socket.request(1, "pairing.list", {});
        await sleep(200);
        socket.close();
        await socket.closed;
        counts.ownerSockets += 1;
      },
    ];
    // One round of every kind of traffic first, so connections that live for the whole run (the test client's HTTP
    // keep-alive pool, the gateway's side of it) are in the baseline; a leak is what grows with thousands of rounds.
    for (const work of workers) await work();
    await sleep(6_500);
    gc?.();
    const baseline = resources();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const samples: Sample[] = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      const { rss, heapUsed } = process.memoryUsage();
      samples.push({ at: Date.now() - started, rss, heapUsed, loopP99Ms: loop.percentile(99) / 1e6, ...resources() });
      loop.reset();
    }, 1_000);
    await Promise.all([
      ...workers.map(async (work, index) => {
        while (!stop) await work().catch(note(`worker ${index}`));
      }),
      sleep(DURATION_MS).then(() => {
        stop = true;
      }),
    ]);
    clearInterval(sampler);
    loop.disable();

    // Let the server notice every closed socket and idle keep-alive HTTP connections time out (5 s), then look for leftovers.
    await sleep(6_500);
    gc?.();
    const after = resources();
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const steady = samples.filter((s) => s.at >= DURATION_MS * WARMUP_FRACTION);
    const fifth = Math.max(1, Math.floor(steady.length / 5));
    const early = steady.slice(0, fifth);
    const late = steady.slice(-fifth);
    const summary = {
      seconds: Math.round((Date.now() - started) / 1000),
      rssStartMb: mb(first.rss),
      rssEndMb: mb(last.rss),
      rssSteadyEarlyMb: mb(median(early.map((s) => s.rss))),
      rssSteadyLateMb: mb(median(late.map((s) => s.rss))),
      heapSteadyEarlyMb: mb(median(early.map((s) => s.heapUsed))),
      heapSteadyLateMb: mb(median(late.map((s) => s.heapUsed))),
      loopP99MedianMs: Math.round(median(samples.map((s) => s.loopP99Ms))),
      loopP99MaxMs: Math.round(Math.max(...samples.map((s) => s.loopP99Ms))),
      cycles: stats.cycles,
      approvals: stats.approved.size + counts.revokes,
      ...counts,
      problems: counts.problems.length,
      failedClosed: stats.failedClosed,
      baseline,
      after,
    };
    console.log(`SOAK SUMMARY ${JSON.stringify(summary)}`);
    if (after.sockets > baseline.sockets) console.log(`SOAK open sockets: ${describeSockets(new URL(g.url).port)}`);
    const problems = [...stats.problems, ...counts.problems];
    if (problems.length > 0)
      console.log(`SOAK PROBLEMS (${problems.length}, first 10):\n${problems.slice(0, 10).join("\n")}`);

    expect(stats.problems.slice(0, 5)).toEqual([]);
    expect(counts.problems.slice(0, 5)).toEqual([]);
    expect(stats.admittedUnknown).toBe(0);
    expect(stats.wrongPrincipal).toBe(0);
    expect(stats.failedClosed).toBe(0);
    expect(counts.reconnects).toBeGreaterThan(0);
    expect(counts.revokes).toBeGreaterThan(0);
    // No growth trend past warm-up: the late steady-state medians stay within 25% (plus 16 MB of allocator slack) of the early ones.
    expect(median(late.map((s) => s.heapUsed))).toBeLessThan(
      median(early.map((s) => s.heapUsed)) * 1.25 + 16 * 1024 * 1024,
    );
    expect(median(late.map((s) => s.rss))).toBeLessThan(median(early.map((s) => s.rss)) * 1.25 + 16 * 1024 * 1024);
    // Nothing left behind: tens of thousands of connections were made; at most one idle keep-alive HTTP connection per
    // concurrent worker may remain (the gateway keeps idle HTTP connections for 72 s), and no timers pile up.
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets + workers.length);
    expect(after.timers).toBeLessThanOrEqual(baseline.timers + 5);
    // Paired devices are all still there (1,000 seeded + churned ones not revoked).
    expect((await pairing.listPaired()).length).toBe(PAIRED + stats.approved.size);
  },
  DURATION_MS + 180_000,
);
