import { channelPlugin } from "../../src/channels/router.js";
import { SLACK_APPROVE_ACTION, SlackAdapter } from "../../src/channels/slack/index.js";
import type { ChannelPlugin } from "../../src/core/context.js";
import { testClock, testGateway, type TestClock, type TestGateway } from "../channels-context.js";
import { BOT_TOKEN, SIGNING_SECRET } from "./slack-events.js";
import { LocalSlackApi } from "./slack-web-api.js";

export interface SlackChannel {
  api: LocalSlackApi;
  gw: TestGateway;
  /** The adapter's Events / Interactivity request URL. */
  url: string;
  plugin: ChannelPlugin;
  clock: TestClock;
}

/**
 * The Slack channel (Bolt in HTTP mode on a free port) against the local Web API, in a test gateway whose owner is
 * UOWNER; `cleanup` gets the steps that close it all.
 */
export async function startSlackChannel(cleanup: Array<() => Promise<void>>): Promise<SlackChannel> {
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
  return { api, gw, plugin, clock, url: `http://127.0.0.1:${adapter.address()!.port}/slack/events` };
}

/** The value (the signed token) of a posted card's Approve button. */
export function approveValue(card: Record<string, unknown>): string {
  const elements = (
    card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
  ).find((b) => b.type === "actions")!.elements!;
  return elements.find((e) => e.action_id === SLACK_APPROVE_ACTION)!.value;
}
