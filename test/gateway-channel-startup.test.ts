/**
 * The gateway waits for its channels at most `channelConnectGraceMs` (issue 18 item 4): past it, a channel still
 * connecting is logged and shown degraded in /healthz while the gateway runs; its late outcome is logged either way;
 * stopping meanwhile stops it, and again once its start settles. Real HTTP against a real gateway.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ChannelPlugin } from "../src/core/context.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { captureLogger, fixedTokenAuth, SECRET } from "./gateway-helpers.js";
import { until } from "./support/until.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A channel whose start settles only when the test says so; it records its stops. */
function slowChannel(): ChannelPlugin & { connect(): void; fail(error: Error): void; stops: number } {
  let settle: { resolve(): void; reject(error: Error): void } | undefined;
  const channel = {
    channelType: "slow",
    stops: 0,
    start: () => new Promise<void>((resolve, reject) => (settle = { resolve, reject })),
    stop: async () => void (channel.stops += 1),
    connect: () => settle?.resolve(),
    fail: (error: Error) => settle?.reject(error),
  };
  return channel;
}

async function startWith(channel: ChannelPlugin): Promise<{ gateway: Gateway; lines: string[] }> {
  const logger = captureLogger();
  const gateway = createGateway({
    store: "memory:",
    secret: SECRET,
    auth: fixedTokenAuth(),
    http: { port: 0 },
    logger,
    channels: [channel],
    channelConnectGraceMs: 200,
  });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  return { gateway, lines: logger.lines };
}

interface Health {
  ok: boolean;
  channels: Record<string, string>;
  error?: { message: string };
}

async function health(gateway: Gateway): Promise<{ status: number; body: Health }> {
  const response = await fetch(`${gateway.url}/healthz`);
  return { status: response.status, body: (await response.json()) as Health };
}

describe("channels that take longer than the grace period", () => {
  it("the gateway starts, says the channel is still connecting, and shows it ok once it connects", async () => {
    const channel = slowChannel();
    const { gateway, lines } = await startWith(channel);
    expect(lines).toContainEqual(
      'warn channel still connecting; the gateway starts without it and keeps trying {"channelType":"slow","waitedMs":200}',
    );
    expect(lines.some((line) => line.startsWith("info gateway started"))).toBe(true);
    const connecting = await health(gateway);
    expect(connecting.status).toBe(503);
    expect(connecting.body.error?.message).toMatch(/^channel slow is degraded: still connecting \(for \d+ s\)$/);
    channel.connect();
    await until(() => lines.some((line) => line.startsWith("info channel connected")), "the connected line", 5_000);
    expect(await health(gateway)).toMatchObject({ status: 200, body: { ok: true, channels: { slow: "ok" } } });
  });

  it("a late failure is logged and stays in /healthz, naming no platform text", async () => {
    const channel = slowChannel();
    const { gateway, lines } = await startWith(channel);
    channel.fail(new TypeError("secret platform detail"));
    await until(
      () => lines.some((line) => line.startsWith("error channel failed to start")),
      "the failure line",
      5_000,
    );
    expect(lines.join("\n")).not.toContain("secret platform detail");
    const failed = await health(gateway);
    expect(failed.status).toBe(503);
    expect(failed.body.error?.message).toBe(
      "channel slow is degraded: it failed to start (TypeError); restart the gateway once fixed",
    );
  });

  it("stopping while it connects stops the channel, and stops it again once its start settles", async () => {
    const channel = slowChannel();
    const { gateway } = await startWith(channel);
    await gateway.stop();
    expect(channel.stops).toBe(1);
    channel.connect();
    await until(() => channel.stops === 2, "the second stop", 5_000);
  });
});
