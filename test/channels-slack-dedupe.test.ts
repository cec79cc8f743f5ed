import { afterEach, describe, expect, it } from "vitest";
import { channelsFromConfig } from "../src/channels/from-config.js";
import { configSchema } from "../src/config/schema.js";
import { testClock, testGateway, type TestGateway } from "./channels-context.js";
import { backendsOfThisFile } from "./support/backends.js";
import { BOT_TOKEN, messageEvent, postSigned, SIGNING_SECRET } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { startSlackInstance } from "./support/slack-channel.js";
import { until } from "./support/until.js";

const backends = await backendsOfThisFile();

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const OWNER = "UOWNER";
const JSON_TYPE = "application/json";

/** One gateway instance: its own Slack adapter (own port) on a shared store URL and secret. */
function instance(
  apiUrl: string,
  storeUrl: string,
  secret: Buffer,
  prepare?: (gw: TestGateway) => void,
): Promise<{ gw: TestGateway; url: string }> {
  return startSlackInstance(cleanup, { apiUrl, storeUrl, secret, clock: testClock(Date.now()), prepare });
}

describe.each(backends.filter((b) => b.shared))("slack event de-duplication across instances on $name", (backend) => {
  it.skipIf(!backend.available)(
    "the same event_id delivered to two instances, and retried, runs the agent once",
    async () => {
      const api = new LocalSlackApi(BOT_TOKEN);
      const apiUrl = await api.listen();
      cleanup.push(() => api.close());
      const storeUrl = backend.freshUrl();
      const secret = Buffer.alloc(32, 7);
      const [a, b] = [await instance(apiUrl, storeUrl, secret), await instance(apiUrl, storeUrl, secret)];
      const event = messageEvent(OWNER, "run me once", `Ev${backend.name}Dup1`);
      // The first delivery and Slack's retries (X-Slack-Retry-Num) land on both instances at once; a replay comes later.
      const statuses = await Promise.all([
        postSigned(a.url, event, JSON_TYPE),
        postSigned(b.url, event, JSON_TYPE, {
          headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
        }),
        postSigned(a.url, event, JSON_TYPE, {
          headers: { "x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout" },
        }),
      ]);
      expect(statuses).toEqual([200, 200, 200]);
      await until(() => api.posts(`D${OWNER}`).some((p) => p.text === "echo: run me once"), "the reply");
      expect(await postSigned(b.url, event, JSON_TYPE)).toBe(200);
      // A different event from the same user is new.
      expect(await postSigned(b.url, messageEvent(OWNER, "and me"), JSON_TYPE)).toBe(200);
      await until(() => api.posts(`D${OWNER}`).some((p) => p.text === "echo: and me"), "the second reply");
      expect(a.gw.agentCalls.length + b.gw.agentCalls.length).toBe(2);
      expect(api.posts(`D${OWNER}`).filter((p) => p.text === "echo: run me once")).toHaveLength(1);
      expect([...a.gw.logs, ...b.gw.logs].filter((l) => l.includes("slack event already handled"))).toHaveLength(3);
    },
  );
});

describe("slack event de-duplication when the store is down", () => {
  it("answers 503 and runs nothing, so Slack retries later", async () => {
    const api = new LocalSlackApi(BOT_TOKEN);
    const apiUrl = await api.listen();
    cleanup.push(() => api.close());
    const { gw, url } = await instance(apiUrl, "memory:", Buffer.alloc(32, 8), (gw) => {
      gw.ctx.seen = { firstSighting: () => Promise.reject(new Error("store down")) };
    });
    expect(await postSigned(url, messageEvent(OWNER, "not now"), JSON_TYPE)).toBe(503);
    expect(gw.logs.some((l) => l.startsWith("warn slack event refused: the store cannot tell"))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gw.agentCalls).toHaveLength(0);
    expect(api.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(0);
  });
});

describe("slack apiUrl from gatehouse.yaml", () => {
  it("is passed on to the Slack client: start calls auth.test on that server", async () => {
    const api = new LocalSlackApi(BOT_TOKEN);
    const apiUrl = await api.listen();
    cleanup.push(() => api.close());
    const channels = configSchema.parse({ channels: { slack: { apiUrl, port: 0, ownerUserIds: [OWNER] } } }).channels;
    const [plugin] = await channelsFromConfig(channels, {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
    });
    const gw = await testGateway({ clock: testClock(Date.now()) });
    cleanup.push(() => gw.close());
    await plugin!.start(gw.ctx);
    cleanup.push(() => plugin!.stop());
    expect(api.calls.map((c) => c.method)).toContain("auth.test");
  });
});
