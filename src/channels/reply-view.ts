import type { GatewayLogger } from "../core/context.js";
import type { StreamingReplies } from "./channel.js";
import { errorName } from "./redact.js";
import { splitText } from "./text/split.js";

/** How a channel shows a streamed reply: edit one message as text arrives, or send it when it is complete. */
export type ReplyMode = "edit" | "final";

/** Telegram clears "typing…" after about 5 s; it is sent again before that (unless the platform says otherwise). */
const TYPING_REPEAT_MS = 4_000;

/**
 * One reply on a platform that streams (see StreamingReplies). Until the first text it shows "typing…" (repeated);
 * in "edit" mode the text then goes out as a message that is edited as more arrives, at most one edit per
 * `editIntervalMs`, split into further messages past the platform's limit (on grapheme boundaries); in "final" mode the
 * typing indicator stays until the reply is complete and it is sent at once. A failed typing or edit call is logged
 * (never the text) and the next flush tries again; finish() always leaves the whole reply shown.
 */
export class ReplyView {
  private text = "";
  /** The messages posted so far and what each shows. */
  private readonly posted: Array<{ id: string; shown: string }> = [];
  private typingTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private flushing: Promise<void> = Promise.resolve();
  private finished = false;

  constructor(
    private readonly platform: StreamingReplies,
    private readonly chatId: string,
    private readonly mode: ReplyMode,
    private readonly logger: GatewayLogger,
    private readonly channelType: string,
  ) {}

  /** Shows the typing indicator until text arrives (edit mode) or the reply is complete (final mode). */
  start(): void {
    const typing = this.platform.typing;
    if (!typing) return;
    const tick = (): void => {
      void typing(this.chatId).catch((error: unknown) => this.warn("typing indicator failed", error));
    };
    tick();
    this.typingTimer = setInterval(tick, this.platform.typingIntervalMs ?? TYPING_REPEAT_MS);
    this.typingTimer.unref();
  }

  readonly push = (chunk: string): void => {
    this.text += chunk;
    if (this.mode !== "edit" || this.finished || this.flushTimer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.platform.editIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, wait);
    this.flushTimer.unref();
  };

  /** Shows the complete reply (`text` replaces what streamed, e.g. when nothing streamed) and stops typing. */
  async finish(text: string = this.text): Promise<void> {
    this.finished = true;
    this.text = text;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.stopTyping();
    await this.flushing;
    if (this.text.trim() !== "") await this.flush(true);
  }

  /** Stops the typing indicator without showing anything (the turn failed and a short notice follows). */
  abandon(): void {
    this.finished = true;
    clearTimeout(this.flushTimer);
    this.stopTyping();
  }

  private stopTyping(): void {
    clearInterval(this.typingTimer);
    this.typingTimer = undefined;
  }

  private async flush(final = false): Promise<void> {
    if (this.text.trim() === "") return;
    this.stopTyping();
    this.lastFlush = Date.now();
    const pieces = splitText(this.text, this.platform.maxLength);
    for (const [index, piece] of pieces.entries()) {
      const message = this.posted[index];
      try {
        if (!message) {
          this.posted.push({ id: await this.platform.post(this.chatId, piece), shown: piece });
        } else if (message.shown !== piece) {
          await this.platform.edit(this.chatId, message.id, piece);
          message.shown = piece;
        }
      } catch (error) {
        this.warn(final ? "could not show the final reply" : "could not update the streamed reply", error);
        if (final) throw error;
        return;
      }
    }
  }

  private warn(message: string, error: unknown): void {
    this.logger.warn(message, { channelType: this.channelType, error: errorName(error) });
  }
}
