/** An agent's action card on Slack (Bolt in HTTP mode against the local Web API): Approve decides, the card is rewritten. */
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { SLACK_APPROVE_ACTION, SlackAdapter } from "../src/channels/slack/index.js";
import { testClock, testGateway } from "./channels-context.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { BOT_TOKEN, postSigned, SIGNING_SECRET } from "./support/slack-events.js";
import { until } from "./support/until.js";

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function press(user: string, channel: string, value: string, messageTs: string): string {
  const payload = {
    type: "block_actions",
    team: { id: "T1", domain: "test" },
    user: { id: user, username: user, team_id: "T1" },
    api_app_id: "A1",
    token: "legacy",
    trigger_id: "1.2.3",
    container: { type: "message", message_ts: messageTs, channel_id: channel, is_ephemeral: false },
    channel: { id: channel, name: "directmessage" },
    message: { type: "message", ts: messageTs, text: "card" },
    response_url: "http://127.0.0.1:9/unused",
    actions: [
      {
        type: "button",
        action_id: SLACK_APPROVE_ACTION,
        block_id: "b1",
        value,
        action_ts: "1700000200.000001",
        text: { type: "plain_text", text: "x" },
      },
    ],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

describe("approvals on Slack", () => {
  it("sends the owner an action card with the arguments quoted, and Approve decides and rewrites it", async () => {
    const api = new LocalSlackApi(BOT_TOKEN);
    const apiUrl = await api.listen();
    const clock = testClock(Date.now());
    const gw = await testGateway({ clock, policy: { ownerUserIds: ["UOWNER"] } });
    const adapter = new SlackAdapter({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl });
    const plugin = channelPlugin(adapter, { now: clock.now });
    await plugin.start(gw.ctx);
    cleanup.push(
      () => api.close(),
      () => gw.close(),
      () => plugin.stop(),
    );
    const url = `http://127.0.0.1:${adapter.address()!.port}/slack/events`;

    await gw.ctx.approvals!.create("agent-1", {
      id: "slack-1",
      tool: "deploy",
      arguments: { env: "prod <!channel> *now*" },
      risk: "high",
      agent: "ci",
      session: "s",
      context: {},
    });
    await until(() => api.posts("UOWNER").length === 1, "the action card");
    const card = api.posts("UOWNER")[0]!;
    expect(String(card.text)).not.toContain("<!channel>");
    const elements = (
      card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
    ).find((b) => b.type === "actions")!.elements!;
    const approve = elements.find((e) => e.action_id === SLACK_APPROVE_ACTION)!.value;
    expect(
      await postSigned(
        url,
        press("UOWNER", "DUOWNER", approve, "1700000000.000002"),
        "application/x-www-form-urlencoded",
      ),
    ).toBe(200);
    await until(
      () =>
        api.calls.some((c) => c.method === "chat.update" && String(c.args.text).includes("Approved by slack:UOWNER.")),
      "the card rewritten",
    );
    expect(await gw.ctx.approvals!.get("slack-1")).toMatchObject({ status: "approved", approver: "slack:UOWNER" });
  });
});
