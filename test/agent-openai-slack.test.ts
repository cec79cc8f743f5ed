import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin, type ChannelRouterOptions } from "../src/channels/router.js";
import { SlackAdapter } from "../src/channels/slack/index.js";
import { BOT_TOKEN, messageEvent, postSigned, SIGNING_SECRET } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { startOpenAiGateway } from "./support/openai-agent.js";
import { until } from "./support/until.js";

const USER = "U42";
const DM = `D${USER}`;

// End to end: a Slack user (Bolt's receiver and WebClient against the local Web API) talks to the openai agent (the
// official client against the local model server) through the real gateway.
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(router?: ChannelRouterOptions) {
  const api = new LocalSlackApi(BOT_TOKEN);
  const apiUrl = await api.listen();
  cleanup.push(() => api.close());
  const adapter = new SlackAdapter({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl });
  const { model } = await startOpenAiGateway(cleanup, {
    allowedUsers: [USER],
    channels: [channelPlugin(adapter, router)],
  });
  const say = async (text: string) =>
    expect(
      await postSigned(
        `http://127.0.0.1:${adapter.address()!.port}/slack/events`,
        messageEvent(USER, text),
        "application/json",
      ),
    ).toBe(200);
  return { model, api, adapter, say };
}

describe("openai agent on Slack", () => {
  it("posts one message and updates it at most every 1.2 s as the reply streams, ending with the whole reply", async () => {
    const { model, api, say } = await start();
    model.setTiming({ firstTokenDelayMs: 100, tokenIntervalMs: 120 });
    const reply =
      "Streaming replies now arrive piece by piece on Slack too, through chat.update of one message, each update waiting its turn under the rate limit";
    model.next({ kind: "reply", text: reply });
    await say("stream please");
    await until(() => api.posts(DM).length === 1, "the first streamed words", 10_000);
    const posted = api.calls.find((c) => c.ok && c.method === "chat.postMessage")!;
    const updates = () => api.accepted("chat.update");
    await until(() => updates().some((u) => u.args.text === reply), "the whole reply shown", 15_000);
    expect(api.posts(DM)).toHaveLength(1);
    expect(updates().every((u) => u.args.channel === DM)).toBe(true);
    expect(updates().length).toBeGreaterThan(2);
    expect(updates().length).toBeLessThan(reply.split(" ").length / 2);
    // Throttled while streaming; the update that shows the complete reply goes out at once.
    for (let i = 1; i < updates().length - 1; i++)
      expect(updates()[i]!.at - updates()[i - 1]!.at).toBeGreaterThanOrEqual(1100);
    expect(posted.args.text).not.toBe(reply);
  });

  it('"final" mode posts the reply once, complete, with no updates', async () => {
    const { model, api, say } = await start({ replyMode: "final" });
    model.setTiming({ tokenIntervalMs: 20 });
    model.next({ kind: "reply", text: "all at once please" });
    await say("hi");
    await until(() => api.posts(DM).length > 0, "the reply", 10_000);
    expect(api.posts(DM).map((m) => m.text)).toEqual(["all at once please"]);
    expect(api.calls.filter((c) => c.method === "chat.update")).toHaveLength(0);
  });

  it("an update answered 429 (ratelimited, Retry-After) is retried and the reply still ends complete", async () => {
    const { model, api, say } = await start();
    model.setTiming({ firstTokenDelayMs: 100, tokenIntervalMs: 200 });
    const reply = "one two three four five six seven eight nine ten";
    model.next({ kind: "reply", text: reply });
    await say("go");
    await until(() => api.posts(DM).length === 1, "the first streamed words", 10_000);
    api.rateLimit("chat.update", 2);
    await until(
      () => api.accepted("chat.update").some((u) => u.args.text === reply),
      "the whole reply after the 429",
      15_000,
    );
    expect(api.calls.some((c) => c.method === "chat.update" && c.status === 429)).toBe(true);
    expect(api.posts(DM)).toHaveLength(1);
  });

  it("updating an unknown message or someone else's is refused as Slack refuses it", async () => {
    const { api, adapter } = await start();
    const theirs = api.userPosted(DM, USER, "mine");
    await expect(adapter.streaming.edit(DM, theirs, "changed")).rejects.toMatchObject({
      data: { error: "cant_update_message" },
    });
    await expect(adapter.streaming.edit(DM, "1700000000.999999", "changed")).rejects.toMatchObject({
      data: { error: "message_not_found" },
    });
    expect(api.textOf(DM, theirs)).toBe("mine");
  });
});
