/**
 * "You're in" and the replay of the first message are claimed in the store (a fenced notice lease), not decided by
 * which instance's feed saw the approval: two gateway instances on one shared store (Slack's real client against the
 * local Web API, each through its own TCP proxy), an approval both hear, and the instance that claimed the notice
 * stalls mid-send and is then stopped for good. The other takes the notice over once the claim's lease runs out and
 * the sender is told once, with their first message answered once.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import { SlackAdapter } from "../src/channels/slack/index.js";
import { GatewayLeases } from "../src/core/leases.js";
import { testGateway, type TestClock, type TestGateway } from "./channels-context.js";
import { allBackends } from "./support/backends.js";
import { until } from "./support/until.js";
import { BOT_TOKEN, messageEvent, postSigned, SIGNING_SECRET } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const backends = (await allBackends()).filter((b) => b.name === "redis" || b.name === "sqlite");
afterAll(async () => {
  for (const backend of backends) await backend.cleanup();
});
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const OWNER = "UOWNER";
/** The notice claim's lease: short, so the takeover comes quickly. */
const LEASE_MS = 1_000;
/** Real time: the claim's lease runs out in the store as it does in production. */
const clock: TestClock = { now: () => Date.now(), advance: () => undefined };

interface Instance {
  id: string;
  gw: TestGateway;
  proxy: TcpProxy;
  url: string;
  /** Stops the channel and its store for good (idempotent). */
  stop(): Promise<void>;
}

async function instance(id: string, api: URL, storeUrl: string): Promise<Instance> {
  const proxy = await TcpProxy.start("127.0.0.1", Number(api.port));
  const gw = await testGateway({ clock, storeUrl, secret: Buffer.alloc(32, 5), policy: { ownerUserIds: [OWNER] } });
  gw.ctx.leases = new GatewayLeases({
    store: gw.stores.leases!,
    instanceId: id,
    ttlMs: LEASE_MS,
    logger: () => gw.ctx.logger,
  });
  const apiUrl = `http://127.0.0.1:${proxy.port}${api.pathname}`;
  const adapter = new SlackAdapter({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl });
  const plugin = channelPlugin(adapter, { now: clock.now });
  await plugin.start(gw.ctx);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await plugin.stop();
      await proxy.down();
      await gw.close();
    })());
  cleanup.push(stop);
  return { id, gw, proxy, url: `http://127.0.0.1:${adapter.address()!.port}/slack/events`, stop };
}

describe.each(backends)("a decision's notice across two instances on $name", (backend) => {
  it.skipIf(!backend.available)(
    "the instance that claimed it stalls mid-send and stops; the other tells the sender once after the lease",
    async () => {
      const api = new LocalSlackApi(BOT_TOKEN);
      const apiUrl = new URL(await api.listen());
      cleanup.push(() => api.close());
      const storeUrl = backend.freshUrl();
      const a = await instance("instance-a", apiUrl, storeUrl);
      const b = await instance("instance-b", apiUrl, storeUrl);
      const sender = `UFAILOVER${backend.name.toUpperCase()}`;
      const texts = (): string[] => api.posts(`D${sender}`).map((p) => String(p.text ?? ""));
      const approvedNotices = (): number => texts().filter((t) => t === DEFAULT_MESSAGES.approved()).length;

      expect(await postSigned(a.url, messageEvent(sender, "my first words"), "application/json")).toBe(200);
      await until(() => api.posts(OWNER).some((p) => String(p.text ?? "").includes(sender)), "the owner card", 10_000);
      const pending = await b.gw.stores.pairing.pendingFor(sender, "slack");

      // Nothing either instance sends reaches Slack from now on: whichever claims the notice stalls in the send.
      a.proxy.hang();
      b.proxy.hang();
      expect(
        await b.gw.stores.pairing.approve("slack", pending!.code, undefined, undefined, { approvedBy: "owner" }),
      ).toBe(true);
      let holder = "";
      let claimName = "";
      await until(
        async () => {
          const claim = (await a.gw.stores.leases!.live("notice:"))[0];
          [holder, claimName] = [claim?.holder ?? "", claim?.name ?? ""];
          return holder !== "";
        },
        "an instance to claim the notice",
        10_000,
      );
      const [winner, loser] = holder === a.id ? [a, b] : [b, a];
      // The claimer dies mid-send: its request never reaches Slack.
      await winner.stop();
      await loser.proxy.up();

      await until(() => texts().includes("echo: my first words"), "the other instance to tell the sender", 10_000);
      // Well past another lease time: nobody tells it again.
      await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_MS));
      expect(approvedNotices()).toBe(1);
      expect(texts().filter((t) => t === "echo: my first words")).toHaveLength(1);
      expect(a.gw.agentCalls.length + b.gw.agentCalls.length).toBe(1);
      expect(await loser.gw.stores.leases!.current(claimName)).toMatchObject({ holder: loser.id, cursor: "done" });
      expect(loser.gw.logs.join("\n")).toMatch(/decision already told by another instance/);
    },
  );
});
