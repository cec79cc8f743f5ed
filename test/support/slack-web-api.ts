import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** When it arrived (Date.now()). */
  at: number;
  /** `ok` from the answer, and the HTTP status (429 for a rate limit). */
  ok: boolean;
  status: number;
}

/** Slack's documented limits for what the adapter sends. */
const MAX_MESSAGE_TEXT = 40_000;
const MAX_SECTION_TEXT = 3_000;
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2_000;
const MAX_ACTION_ID = 255;

class SlackApiError extends Error {
  constructor(readonly error: string) {
    super(error);
  }
}

/**
 * A local Slack Web API for one bot token (auth.test, chat.postMessage, chat.update, chat.postEphemeral,
 * conversations.open) answering as Slack documents: HTTP 200 with `{ ok: false, error }` for errors (`invalid_auth`,
 * `not_authed`, `msg_too_long`, `no_text`, `invalid_blocks`, `unknown_method`; chat.update: `message_not_found`,
 * `cant_update_message` for a message the bot did not post), and HTTP 429 with a `Retry-After`
 * header (seconds) while a method is rate limited, refusing calls again until the wait is over.
 */
export class LocalSlackApi {
  readonly calls: SlackCall[] = [];
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private readonly limitedUntil = new Map<string, number>();
  private nextTs = 1;
  /** Every message by `channel ts`: who posted it and its current text. */
  private readonly messages = new Map<string, { user: string; text: string }>();

  constructor(private botToken: string) {}

  /** The workspace revoked the bot token (or uninstalled the app): every call with it is `invalid_auth` from now on. */
  revokeToken(): void {
    this.botToken = `${this.botToken}-revoked`;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `method` answers 429 with Retry-After for the next `seconds`. */
  rateLimit(method: string, seconds: number): void {
    this.limitedUntil.set(method, Date.now() + seconds * 1000);
  }

  /** A message by a user (its ts), e.g. to check the bot cannot update it. */
  userPosted(channel: string, user: string, text: string): string {
    const ts = this.newTs();
    this.messages.set(`${channel} ${ts}`, { user, text });
    return ts;
  }

  /** A message's text now (after any chat.update). */
  textOf(channel: string, ts: string): string | undefined {
    return this.messages.get(`${channel} ${ts}`)?.text;
  }

  /** Accepted calls of one method, in order. */
  accepted(method: string): SlackCall[] {
    return this.calls.filter((c) => c.ok && c.method === method);
  }

  /** chat.postMessage calls Slack accepted for one channel. */
  posts(channel: string): Array<Record<string, unknown>> {
    return this.calls
      .filter((c) => c.ok && c.method === "chat.postMessage" && c.args.channel === channel)
      .map((c) => c.args);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0]!;
    const raw = Buffer.concat(chunks).toString("utf8");
    const args: Record<string, unknown> = (req.headers["content-type"] ?? "").includes("json")
      ? (JSON.parse(raw) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(raw));
    if (typeof args.blocks === "string") args.blocks = JSON.parse(args.blocks);
    const call: SlackCall = { method, args, at: Date.now(), ok: false, status: 200 };
    this.calls.push(call);
    const until = this.limitedUntil.get(method) ?? 0;
    if (until > Date.now()) {
      call.status = 429;
      res.writeHead(429, {
        "content-type": "application/json",
        "retry-after": String(Math.ceil((until - Date.now()) / 1000)),
      });
      res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
      return;
    }
    let body: Record<string, unknown>;
    try {
      const auth = req.headers.authorization;
      if (!auth) throw new SlackApiError("not_authed");
      if (auth !== `Bearer ${this.botToken}`) throw new SlackApiError("invalid_auth");
      body = { ok: true, ...this.answer(method, args) };
      call.ok = true;
    } catch (error) {
      body = { ok: false, error: error instanceof SlackApiError ? error.error : "internal_error" };
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  private newTs(): string {
    return `1700000000.${String(this.nextTs++).padStart(6, "0")}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case "auth.test":
        return { user_id: "UBOT", bot_id: "BBOT", team_id: "T1", user: "gate", team: "Test" };
      case "conversations.open":
        return { channel: { id: `D${String(args.users)}` } };
      case "chat.postMessage": {
        checkMessage(args);
        const channel = String(args.channel).startsWith("U") ? `D${String(args.channel)}` : String(args.channel);
        const ts = this.newTs();
        this.messages.set(`${channel} ${ts}`, { user: "UBOT", text: String(args.text ?? "") });
        return { channel, ts };
      }
      case "chat.update": {
        const message = this.messages.get(`${String(args.channel)} ${String(args.ts)}`);
        if (!message) throw new SlackApiError("message_not_found");
        if (message.user !== "UBOT") throw new SlackApiError("cant_update_message");
        checkMessage(args);
        message.text = String(args.text ?? "");
        return { channel: args.channel, ts: args.ts, text: message.text };
      }
      case "chat.postEphemeral":
        checkMessage(args);
        return {};
      default:
        throw new SlackApiError("unknown_method");
    }
  }
}

function checkMessage(args: Record<string, unknown>): void {
  const text = typeof args.text === "string" ? args.text : "";
  if (text === "" && args.blocks === undefined) throw new SlackApiError("no_text");
  if (text.length > MAX_MESSAGE_TEXT) throw new SlackApiError("msg_too_long");
  if (args.blocks !== undefined) checkBlocks(args.blocks);
}

/** The Block Kit limits the adapter's cards touch: section text 3000, button text 75, value 2000, action_id 255. */
function checkBlocks(blocks: unknown): void {
  if (!Array.isArray(blocks)) throw new SlackApiError("invalid_blocks");
  for (const block of blocks as Array<{ type?: string; text?: { text?: unknown }; elements?: unknown[] }>) {
    if (
      block.type === "section" &&
      (typeof block.text?.text !== "string" || block.text.text.length > MAX_SECTION_TEXT || block.text.text === "")
    ) {
      throw new SlackApiError("invalid_blocks");
    }
    for (const element of (block.elements ?? []) as Array<{
      type?: string;
      text?: { text?: unknown };
      value?: unknown;
      action_id?: unknown;
    }>) {
      if (element.type !== "button") continue;
      const label = element.text?.text;
      if (typeof label !== "string" || label === "" || label.length > MAX_BUTTON_TEXT)
        throw new SlackApiError("invalid_blocks");
      if (typeof element.value === "string" && element.value.length > MAX_BUTTON_VALUE)
        throw new SlackApiError("invalid_blocks");
      if (typeof element.action_id === "string" && element.action_id.length > MAX_ACTION_ID)
        throw new SlackApiError("invalid_blocks");
    }
  }
}
