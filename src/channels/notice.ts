import type { ChannelNotice, GatewayContext } from "../core/context.js";
import type { JsonValue } from "../protocols/types.js";
import { errorName } from "./redact.js";

/**
 * Tells the owner's consoles about a channel's notice (e.g. a WhatsApp card the platform would not deliver). With the
 * store's announcements it goes through the feed, so the consoles on every instance hear it (the gateway turns the
 * feed's `channel-notice` back into a `channel.notice` event); without them, or when the store cannot take it, only
 * this instance's consoles do. A notice holds no code, token or message text (see ChannelNotice).
 */
export function announceNotice(ctx: GatewayContext, notice: ChannelNotice): void {
  const local = (): void => void ctx.events.emit("channel.notice", notice);
  const announcements = ctx.announcements;
  if (!announcements) return local();
  const { channelType, ...rest } = notice;
  const detail = JSON.parse(JSON.stringify(rest)) as Record<string, JsonValue>;
  announcements
    .announce({ type: "channel-notice", channelType, channelId: "", actor: "system", detail })
    .catch((error: unknown) => {
      ctx.logger.warn("a channel notice could not go through the store: only this instance's consoles see it", {
        channelType,
        error: errorName(error),
      });
      local();
    });
}
