import { channelPlugin, type ChannelRouterOptions } from "../../src/channels/router.js";
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

/** One gateway instance (owner UOWNER) with its own Slack adapter on a free port, against the Web API at `apiUrl`. */
export interface SlackInstanceOptions {
  apiUrl: string;
  /** The clock of the stores and the router. */
  clock: TestClock;
  /** A store URL and secret several instances share (default: a memory store of its own). */
  storeUrl?: string;
  secret?: Buffer;
  /** Router options besides the clock. */
  router?: Omit<ChannelRouterOptions, "now">;
  /** Runs on the gateway before the adapter starts. */
  prepare?: (gw: TestGateway) => void;
}

/** Starts one instance (see SlackInstanceOptions); `cleanup` gets the steps that stop it. */
export async function startSlackInstance(
  cleanup: Array<() => Promise<void>>,
  options: SlackInstanceOptions,
): Promise<Omit<SlackChannel, "api" | "clock">> {
  const { apiUrl, clock } = options;
  const gw = await testGateway({
    clock,
    storeUrl: options.storeUrl,
    secret: options.secret,
    policy: { ownerUserIds: ["UOWNER"] },
  });
  options.prepare?.(gw);
  const adapter = new SlackAdapter({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl });
  const plugin = channelPlugin(adapter, { now: clock.now, ...options.router });
  await plugin.start(gw.ctx);
  cleanup.push(
    () => gw.close(),
    () => plugin.stop(),
  );
  return { gw, plugin, url: `http://127.0.0.1:${adapter.address()!.port}/slack/events` };
}

/**
 * The Slack channel (Bolt in HTTP mode on a free port) against the local Web API, in a test gateway whose owner is
 * UOWNER; `cleanup` gets the steps that close it all.
 */
export async function startSlackChannel(cleanup: Array<() => Promise<void>>): Promise<SlackChannel> {
  const api = new LocalSlackApi(BOT_TOKEN);
  const apiUrl = await api.listen();
  cleanup.push(() => api.close());
  const clock = testClock(Date.now());
  return { api, clock, ...(await startSlackInstance(cleanup, { apiUrl, clock })) };
}

/** The value (the signed token) of a posted card's Approve button. */
export function approveValue(card: Record<string, unknown>): string {
  const elements = (
    card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
  ).find((b) => b.type === "actions")!.elements!;
  return elements.find((e) => e.action_id === SLACK_APPROVE_ACTION)!.value;
}
