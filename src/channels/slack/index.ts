import type { ChannelPlugin } from "../../core/context.js";
import { channelPlugin, type ChannelRouterOptions } from "../router.js";
import { SlackAdapter, type SlackAdapterOptions } from "./adapter.js";

export { SlackAdapter, SLACK_APPROVE_ACTION, SLACK_DENY_ACTION, type SlackAdapterOptions } from "./adapter.js";
export {
  verifySlackSignature,
  SLACK_REPLAY_WINDOW_SECONDS,
  type SlackSignedRequest,
  type SlackVerification,
} from "./signature.js";

/** The Slack channel (HTTP mode) as a gateway plugin. */
export function slackChannel(options: SlackAdapterOptions = {}, router: ChannelRouterOptions = {}): ChannelPlugin {
  return channelPlugin(new SlackAdapter(options), router);
}
