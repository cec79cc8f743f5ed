/** An agent's action card on Slack (Bolt in HTTP mode against the local Web API): Approve decides, the card is rewritten. */
import { afterEach, describe, expect, it } from "vitest";
import { SLACK_APPROVE_ACTION } from "../src/channels/slack/index.js";
import { approveValue, startSlackChannel } from "./support/slack-channel.js";
import { buttonPress, postSigned } from "./support/slack-events.js";
import { until } from "./support/until.js";

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe("approvals on Slack", () => {
  it("sends the owner an action card with the arguments quoted, and Approve decides and rewrites it", async () => {
    const { api, gw, url } = await startSlackChannel(cleanup);

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
    const approve = approveValue(card);
    expect(
      await postSigned(
        url,
        buttonPress("UOWNER", "DUOWNER", SLACK_APPROVE_ACTION, approve, "1700000000.000002"),
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
