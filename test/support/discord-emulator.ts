import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/** A REST call the bot made, with the status the emulator answered. */
export interface DiscordCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  status: number;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface DiscordUser {
  id: string;
  username: string;
  global_name?: string | null;
}

const BOT: DiscordUser = { id: "4242", username: "gate-bot" };
const MAX_CONTENT = 2000;
/** The one guild the bot is in, with one text channel, announced with GUILD_CREATE after READY as Discord does. */
export const GUILD = {
  id: "950000000000000001",
  name: "Test guild",
  channelId: "800000000000000001",
  channelName: "general",
};
const HEARTBEAT_MS = 500;

class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

/**
 * A local Discord for one bot token, answering as Discord documents. REST (`/api/v10`): `GET /gateway/bot` names this
 * emulator's WebSocket gateway; users (`/users/@me` is the bot), DM channels, messages and interaction callbacks; 401 `{ message, code: 0 }` for a
 * wrong token, 403 code 50007 when a user does not accept DMs, 429 with `retry-after`, `x-ratelimit-*` headers and
 * `{ retry_after, global }` while rate limited, 400 code 50035 past 2000 characters (counted in code points) and 40060
 * for an interaction answered twice. `POST /channels/{id}/typing` is 204; `PATCH /channels/{id}/messages/{id}` edits a
 * message: 404 code 10008 for an unknown one, 403 code 50005 for another user's, the same 2000 limit. Gateway (v10,
 * JSON): HELLO, IDENTIFY (4004 for a wrong token), READY, heartbeat and ACK; tests dispatch MESSAGE_CREATE and
 * INTERACTION_CREATE as Discord would.
 */
export class DiscordEmulator {
  readonly calls: DiscordCall[] = [];
  /** Users who do not accept DMs from the bot: sending to their DM channel is 403. */
  readonly closedDms = new Set<string>();
  identified = 0;
  /** While set, IDENTIFY is not answered (a gateway that accepts the socket but does not become ready); see becomeReady. */
  silent = false;
  private readonly waiting = new Set<WebSocket>();
  heartbeats = 0;
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private readonly gateway = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private readonly users = new Map<string, DiscordUser>([[BOT.id, BOT]]);
  private readonly limited = new Map<string, number>();
  private readonly answered = new Set<string>();
  private readonly interactionTokens = new Map<string, string>();
  /** Every message by id: its channel, author and current content (for PATCH). */
  private readonly stored = new Map<string, { channelId: string; authorId: string; content: string }>();
  private sequence = 0;
  private nextId = 1_000_000_000_000_000n;
  private base = "";

  constructor(private readonly token: string) {
    this.server.on("upgrade", (req, socket, head) =>
      this.gateway.handleUpgrade(req, socket, head, (ws) => this.onGateway(ws)),
    );
  }

  /** Starts REST and gateway on one port; returns the REST root for discord.js's `rest.api`. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return `http://${this.base}/api`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addUser(user: DiscordUser): void {
    this.users.set(user.id, user);
  }

  /** The DM channel id between the bot and a user (stable, as Discord's is). */
  dmOf(userId: string): string {
    return `7${userId}`;
  }

  /** Messages the bot's POSTs created in one channel (accepted ones only). */
  messagesIn(channelId: string): Array<Record<string, unknown>> {
    return this.calls
      .filter((c) => c.status === 200 && c.method === "POST" && c.path === `/channels/${channelId}/messages`)
      .map((c) => c.body);
  }

  /** Accepted REST calls of one method whose path starts with `prefix`, in order. */
  callsTo(method: string, prefix: string): DiscordCall[] {
    return this.calls.filter((c) => c.method === method && c.status < 300 && c.path.startsWith(prefix));
  }

  /** Ids of the bot's messages in one channel, oldest first. */
  botMessageIds(channelId: string): string[] {
    return [...this.stored].filter(([, m]) => m.channelId === channelId && m.authorId === BOT.id).map(([id]) => id);
  }

  /** What a message shows now (after any edits). */
  contentOf(messageId: string): string | undefined {
    return this.stored.get(messageId)?.content;
  }

  /** A message by someone else in a channel (its id), e.g. to check the bot cannot edit it. */
  storeForeignMessage(channelId: string, userId: string, content: string): string {
    return String(
      this.messageObject(channelId, this.users.get(userId) ?? { id: userId, username: `user${userId}` }, content).id,
    );
  }

  /** Interaction callbacks the bot sent for one interaction id. */
  callbacksOf(interactionId: string): Array<Record<string, unknown>> {
    return this.calls.filter((c) => c.path.startsWith(`/interactions/${interactionId}/`)).map((c) => c.body);
  }

  /** Calls to `path` (any method) answer 429 for the next `seconds`. */
  rateLimit(path: string, seconds: number): void {
    this.limited.set(path, Date.now() + seconds * 1000);
  }

  /** A DM from a user to the bot, dispatched as MESSAGE_CREATE. */
  userWrites(userId: string, content: string): void {
    const user = this.users.get(userId) ?? { id: userId, username: `user${userId}` };
    // MESSAGE_CREATE carries channel_type (1: DM) besides the message, as Discord sends it.
    this.dispatch("MESSAGE_CREATE", { ...this.messageObject(this.dmOf(userId), user, content), channel_type: 1 });
  }

  /** A button press on a message the bot sent, dispatched as INTERACTION_CREATE (in a DM); returns the interaction id. */
  press(userId: string, customId: string, message: Record<string, unknown>, channelId = this.dmOf(userId)): string {
    const user = this.users.get(userId) ?? { id: userId, username: `user${userId}` };
    const id = this.snowflake();
    const token = `itoken-${id}`;
    this.interactionTokens.set(id, token);
    this.dispatch("INTERACTION_CREATE", {
      id,
      application_id: BOT.id,
      type: 3,
      token,
      version: 1,
      data: { custom_id: customId, component_type: 2 },
      channel_id: channelId,
      channel: { id: channelId, type: 1 },
      user: { ...user, discriminator: "0", avatar: null },
      message: { ...message, author: { ...BOT, discriminator: "0", avatar: null, bot: true } },
      app_permissions: "0",
      locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "1": userId },
      context: 1,
    });
    return id;
  }

  /** The gateway closes every session with this code (4004: the token was reset meanwhile). */
  closeGateway(code: number): void {
    for (const ws of this.sockets) ws.close(code, code === 4004 ? "Authentication failed." : "closed");
  }

  /** Ends silence: every session that identified meanwhile gets its READY. */
  becomeReady(): void {
    this.silent = false;
    for (const ws of this.waiting) this.sendReady(ws);
    this.waiting.clear();
  }

  private sendReady(ws: WebSocket): void {
    this.identified++;
    const user = { ...BOT, discriminator: "0", avatar: null, bot: true, verified: true, flags: 0 };
    const ready = {
      v: 10,
      user,
      guilds: [],
      session_id: `session-${this.identified}`,
      resume_gateway_url: `ws://${this.base}`,
      shard: [0, 1],
      application: { id: BOT.id, flags: 0 },
    };
    ws.send(JSON.stringify({ op: 0, t: "READY", s: ++this.sequence, d: ready }));
    ws.send(JSON.stringify({ op: 0, t: "GUILD_CREATE", s: ++this.sequence, d: this.guildObject() }));
  }

  /**
   * A message from a user in the guild's text channel, as MESSAGE_CREATE: with guild_id and member, the bot in `mentions`
   * when its `<@id>` is in the content, and as a reply (type 19, referenced_message) to one of the bot's messages.
   */
  userWritesInGuild(userId: string, content: string, options: { replyToBot?: boolean } = {}): void {
    const user = this.users.get(userId) ?? { id: userId, username: `user${userId}` };
    const message = this.messageObject(GUILD.channelId, user, content);
    const mentions = new RegExp(`<@!?${BOT.id}>`).test(content)
      ? [{ ...BOT, discriminator: "0", avatar: null, bot: true }]
      : [];
    const reply = options.replyToBot
      ? {
          type: 19,
          message_reference: { message_id: "1", channel_id: GUILD.channelId, guild_id: GUILD.id },
          referenced_message: this.messageObject(GUILD.channelId, BOT, "earlier"),
        }
      : {};
    const member = { roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 };
    this.dispatch("MESSAGE_CREATE", {
      ...message,
      guild_id: GUILD.id,
      member,
      mentions: reply.type ? [...mentions, { ...BOT, discriminator: "0", avatar: null, bot: true }] : mentions,
      ...reply,
    });
  }

  private guildObject(): Record<string, unknown> {
    return {
      id: GUILD.id,
      name: GUILD.name,
      icon: null,
      owner_id: "1",
      unavailable: false,
      member_count: 2,
      joined_at: new Date(0).toISOString(),
      large: false,
      features: [],
      roles: [
        {
          id: GUILD.id,
          name: "@everyone",
          permissions: "68608",
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [],
      stickers: [],
      members: [],
      presences: [],
      voice_states: [],
      threads: [],
      stage_instances: [],
      guild_scheduled_events: [],
      channels: [
        {
          id: GUILD.channelId,
          type: 0,
          name: GUILD.channelName,
          guild_id: GUILD.id,
          position: 0,
          permission_overwrites: [],
          nsfw: false,
          parent_id: null,
        },
      ],
    };
  }

  private dispatch(t: string, d: unknown): void {
    const frame = JSON.stringify({ op: 0, t, s: ++this.sequence, d });
    for (const ws of this.sockets) ws.send(frame);
  }

  private onGateway(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on("close", () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: HEARTBEAT_MS }, s: null, t: null }));
    ws.on("message", (raw) => {
      const frame = JSON.parse(String(raw)) as { op: number; d: { token?: string } | null };
      if (frame.op === 1) {
        this.heartbeats++;
        ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      } else if (frame.op === 2) {
        if (frame.d?.token !== this.token) return ws.close(4004, "Authentication failed.");
        if (this.silent) return void this.waiting.add(ws);
        this.sendReady(ws);
      }
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "").split("?")[0]!.replace(/^\/api\/v10/, "");
    const call: DiscordCall = {
      method: req.method ?? "GET",
      path,
      body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
      status: 200,
      at: Date.now(),
    };
    this.calls.push(call);
    const headers: Record<string, string> = { "content-type": "application/json" };
    try {
      const until = this.limited.get(path) ?? 0;
      if (call.method !== "GET" && until > Date.now()) {
        const after = (until - Date.now()) / 1000;
        Object.assign(headers, {
          "retry-after": String(Math.ceil(after)),
          "x-ratelimit-limit": "5",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset-after": after.toFixed(3),
          "x-ratelimit-reset": (until / 1000).toFixed(3),
          "x-ratelimit-bucket": "emulator-bucket",
          "x-ratelimit-scope": "user",
        });
        throw new DiscordApiError(429, { message: "You are being rate limited.", retry_after: after, global: false });
      }
      const result = this.route(call, req.headers.authorization);
      if (result === null) {
        res.writeHead(204).end();
        call.status = 204;
        return;
      }
      res.writeHead(200, headers).end(JSON.stringify(result));
    } catch (error) {
      const failure =
        error instanceof DiscordApiError
          ? error
          : new DiscordApiError(500, { message: "500: Internal Server Error", code: 0 });
      call.status = failure.status;
      res.writeHead(failure.status, headers).end(JSON.stringify(failure.body));
    }
  }

  private route(call: DiscordCall, authorization: string | undefined): unknown {
    const { method, path, body } = call;
    const callback = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    if (method === "POST" && callback) return this.interactionCallback(callback[1]!, callback[2]!);
    if (authorization !== `Bot ${this.token}`)
      throw new DiscordApiError(401, { message: "401: Unauthorized", code: 0 });
    if (method === "GET" && path === "/gateway/bot") {
      return {
        url: `ws://${this.base}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      };
    }
    if (method === "GET" && path === "/users/@me") return this.userObject(BOT.id);
    const user = /^\/users\/(\d+)$/.exec(path);
    if (method === "GET" && user) return this.userObject(user[1]!);
    if (method === "POST" && path === "/users/@me/channels") return this.dmObject(String(body.recipient_id));
    const channel = /^\/channels\/(\d+)$/.exec(path);
    if (method === "GET" && channel) return this.dmObject(channel[1]!.slice(1));
    const messages = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (method === "POST" && messages) return this.createMessage(messages[1]!, body);
    const typing = /^\/channels\/(\d+)\/typing$/.exec(path);
    if (method === "POST" && typing) return null;
    const message = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path);
    if (method === "PATCH" && message) return this.editMessage(message[1]!, message[2]!, body);
    throw new DiscordApiError(404, { message: "404: Not Found", code: 0 });
  }

  private createMessage(channelId: string, body: Record<string, unknown>): unknown {
    const recipient = channelId.slice(1);
    if (this.closedDms.has(recipient))
      throw new DiscordApiError(403, { message: "Cannot send messages to this user", code: 50007 });
    const content = checkedContent(body);
    if (content === "" && !Array.isArray(body.components))
      throw new DiscordApiError(400, { message: "Cannot send an empty message", code: 50006 });
    return { ...this.messageObject(channelId, BOT, content), components: body.components ?? [] };
  }

  private editMessage(channelId: string, messageId: string, body: Record<string, unknown>): unknown {
    const message = this.stored.get(messageId);
    if (!message || message.channelId !== channelId)
      throw new DiscordApiError(404, { message: "Unknown Message", code: 10008 });
    if (message.authorId !== BOT.id)
      throw new DiscordApiError(403, { message: "Cannot edit a message authored by another user", code: 50005 });
    message.content = checkedContent(body);
    return {
      ...this.messageObject(channelId, BOT, message.content, messageId),
      edited_timestamp: new Date().toISOString(),
    };
  }

  private interactionCallback(id: string, token: string): null {
    if (this.interactionTokens.get(id) !== token)
      throw new DiscordApiError(401, { message: "Invalid Webhook Token", code: 50027 });
    if (this.answered.has(id))
      throw new DiscordApiError(400, { message: "Interaction has already been acknowledged.", code: 40060 });
    this.answered.add(id);
    return null;
  }

  private userObject(id: string): unknown {
    const user = this.users.get(id);
    if (!user) throw new DiscordApiError(404, { message: "Unknown User", code: 10013 });
    return { ...user, discriminator: "0", avatar: null, global_name: user.global_name ?? null };
  }

  private dmObject(userId: string): unknown {
    return { id: this.dmOf(userId), type: 1, last_message_id: null, flags: 0, recipients: [this.userObject(userId)] };
  }

  private messageObject(
    channelId: string,
    author: DiscordUser,
    content: string,
    id = this.snowflake(),
  ): Record<string, unknown> {
    this.stored.set(id, { channelId, authorId: author.id, content });
    return {
      id,
      channel_id: channelId,
      type: 0,
      author: {
        ...author,
        discriminator: "0",
        avatar: null,
        global_name: author.global_name ?? null,
        ...(author.id === BOT.id ? { bot: true } : {}),
      },
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      flags: 0,
    };
  }

  private snowflake(): string {
    return String(this.nextId++);
  }
}

/** The message content of a create or edit body, refused (50035) past 2000 characters counted in code points. */
function checkedContent(body: Record<string, unknown>): string {
  const content = typeof body.content === "string" ? body.content : "";
  if ([...content].length > MAX_CONTENT) {
    throw new DiscordApiError(400, {
      message: "Invalid Form Body",
      code: 50035,
      errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] } },
    });
  }
  return content;
}
