import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  /** For sendMessage: the id of the message the bot sent. */
  messageId?: number;
}

interface Waiter {
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/**
 * A local HTTP server that speaks the Bot API methods the Telegram adapter uses (getMe, deleteWebhook, getUpdates with
 * long polling, sendMessage, answerCallbackQuery, editMessageReplyMarkup, setWebhook), on 127.0.0.1, for one bot token.
 * Tests push updates (as Telegram would) and read the calls the bot made.
 */
export class LocalBotApi {
  readonly calls: ApiCall[] = [];
  private readonly server: Server;
  private readonly updates: Array<Record<string, unknown>> = [];
  private nextUpdateId = 1;
  private nextMessageId = 100;
  private waiters: Waiter[] = [];

  constructor(readonly token: string) {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (result) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result)),
        (error: Error) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, error_code: 400, description: error.message })),
      );
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues an update for getUpdates; returns its update_id. */
  push(update: Record<string, unknown>): number {
    const id = this.nextUpdateId++;
    this.updates.push({ update_id: id, ...update });
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    return id;
  }

  /** A private text message from a user, as Telegram delivers it. */
  message(fromId: number, text: string, options: { chatId?: number; chatType?: string; firstName?: string } = {}): Record<string, unknown> {
    const chatId = options.chatId ?? fromId;
    return {
      message: {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: options.chatType && options.chatType !== "private" ? { id: chatId, type: options.chatType, title: "A group" } : { id: chatId, type: "private", first_name: options.firstName ?? "User" },
        from: { id: fromId, is_bot: false, first_name: options.firstName ?? "User" },
        text,
      },
    };
  }

  /** A button press on a message the bot sent, as Telegram delivers it. */
  callbackQuery(fromId: number, data: string, on: { chatId: number; messageId: number; chatType?: string }): Record<string, unknown> {
    return {
      callback_query: {
        id: `cq-${this.nextUpdateId}`,
        from: { id: fromId, is_bot: false, first_name: "Presser" },
        chat_instance: "ci-1",
        data,
        message: {
          message_id: on.messageId,
          date: Math.floor(Date.now() / 1000),
          chat: on.chatType && on.chatType !== "private" ? { id: on.chatId, type: on.chatType, title: "A group" } : { id: on.chatId, type: "private", first_name: "Owner" },
          text: "card",
        },
      },
    };
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Texts sent to one chat. */
  textsTo(chatId: number): string[] {
    return this.callsOf("sendMessage")
      .filter((c) => String(c.body.chat_id) === String(chatId))
      .map((c) => String(c.body.text));
  }

  private async handle(req: IncomingMessage): Promise<unknown> {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    if (!match || match[1] !== this.token) throw new Error("Unauthorized");
    const method = match[2]!;
    const body = await readJson(req);
    const call: ApiCall = { method, body };
    this.calls.push(call);
    switch (method) {
      case "getMe":
        return ok({ id: 4242, is_bot: true, first_name: "Gate", username: "gate_test_bot", can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case "deleteWebhook":
      case "setWebhook":
      case "answerCallbackQuery":
        return ok(true);
      case "getUpdates":
        return ok(await this.getUpdates(body));
      case "sendMessage":
        call.messageId = this.nextMessageId++;
        return ok({
          message_id: call.messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(body.chat_id), type: "private", first_name: "X" },
          text: body.text,
        });
      case "editMessageReplyMarkup":
        return ok({ message_id: Number(body.message_id), date: 0, chat: { id: Number(body.chat_id), type: "private", first_name: "X" }, text: "card" });
      default:
        throw new Error(`method ${method} is not served by the local Bot API`);
    }
  }

  private async getUpdates(body: Record<string, unknown>): Promise<unknown[]> {
    const offset = typeof body.offset === "number" ? body.offset : 0;
    // Confirmed updates are dropped, as Telegram does.
    while (this.updates.length > 0 && Number(this.updates[0]!.update_id) < offset) this.updates.shift();
    const timeout = typeof body.timeout === "number" ? body.timeout : 0;
    if (this.updates.length === 0 && timeout > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeout * 1000);
        this.waiters.push({ resolve, timer });
      });
    }
    return this.updates.filter((u) => Number(u.update_id) >= offset);
  }
}

function ok(result: unknown): { ok: true; result: unknown } {
  return { ok: true, result };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  return raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
}
