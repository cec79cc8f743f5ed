/**
 * A local stand-in for Meta's WhatsApp Cloud API, following its documented behaviour: the Graph API messages endpoint
 * (`POST /{version}/{phone-number-id}/messages`, bearer token, Graph error objects: 190 invalid token with 401, 100
 * invalid parameter with 400 for bodies over 4096 characters or reply buttons over their limits, 130429 throughput with
 * 429), the 24-hour customer-service window (a free-form message to someone who has not written within 24 hours is
 * accepted, then reported as a `failed` status with error 131047, as Meta does; or refused at once in "sync" mode), and
 * webhook notifications in Meta's payload shape, signed with X-Hub-Signature-256 like Meta signs them.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hubSignature } from "../src/channels/whatsapp/signature.js";

export interface SentMessage {
  id: string;
  to: string;
  type: string;
  body: Record<string, any>;
}

interface GraphFailure {
  status: number;
  code: number;
  message: string;
  retryAfter?: number;
}

const WINDOW_MS = 24 * 60 * 60_000;

export class LocalWhatsAppCloud {
  readonly sent: SentMessage[] = [];
  /** Every call to the messages endpoint, accepted or not. */
  calls = 0;
  /** Where failed-status notifications for 131047 go: "async" (Meta's usual way) or "sync" (refused at once). */
  windowFailure: "async" | "sync" = "async";
  webhookUrl = "";
  private server: Server | null = null;
  private readonly lastInbound = new Map<string, number>();
  private readonly failures: GraphFailure[] = [];

  constructor(
    readonly phoneNumberId: string,
    readonly accessToken: string,
    readonly appSecret: string,
    readonly now: () => number = Date.now,
  ) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `count` sends fail this way (429, 500, …), then sending works again. */
  failNext(count: number, failure: GraphFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  /** Texts sent to a user; `replies` are those sent as a reply to one of their messages (answers to button presses). */
  textsTo(waId: string, which: "all" | "replies" | "plain" = "all"): string[] {
    return this.sent
      .filter((m) => m.to === waId && m.type === "text")
      .filter((m) => which === "all" || (which === "replies") === (m.body.context?.message_id !== undefined))
      .map((m) => String(m.body.text.body));
  }

  /** The user wrote to the business earlier (their 24-hour window is open) without a notification now. */
  openWindow(waId: string): void {
    this.lastInbound.set(waId, this.now());
  }

  cardsTo(waId: string): SentMessage[] {
    return this.sent.filter((m) => m.to === waId && m.type === "interactive");
  }

  /** A user writes to the business: opens their 24-hour window and delivers the notification. */
  async userWrites(waId: string, name: string, text: string, id = wamid()): Promise<{ status: number; id: string }> {
    this.lastInbound.set(waId, this.now());
    const status = await this.deliver(
      this.notification({
        contacts: [contact(waId, name)],
        messages: [{ from: waId, id, timestamp: ts(this.now()), type: "text", text: { body: text } }],
      }),
    );
    return { status, id };
  }

  /** A user presses a reply button on one of our interactive messages (Meta reports the button's id and title). */
  async userPresses(waId: string, buttonId: string, title: string, contextId = wamid(), id = wamid()): Promise<number> {
    this.lastInbound.set(waId, this.now());
    return this.deliver(
      this.notification({
        contacts: [contact(waId, "")],
        messages: [
          {
            context: { from: this.phoneNumberId, id: contextId },
            from: waId,
            id,
            timestamp: ts(this.now()),
            type: "interactive",
            interactive: { type: "button_reply", button_reply: { id: buttonId, title } },
          },
        ],
      }),
    );
  }

  /** A status callback (sent, delivered, read, or failed with errors). */
  status(
    id: string,
    recipient: string,
    status: string,
    errors?: Array<{ code: number; title: string }>,
  ): Record<string, unknown> {
    return this.notification({
      statuses: [{ id, status, timestamp: ts(this.now()), recipient_id: recipient, ...(errors ? { errors } : {}) }],
    });
  }

  /** Meta's notification envelope for the `messages` field of this phone number. */
  notification(value: Record<string, unknown>): Record<string, unknown> {
    return {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "102290129340398",
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: { display_phone_number: "15550783881", phone_number_id: this.phoneNumberId },
                ...value,
              },
            },
          ],
        },
      ],
    };
  }

  /** POSTs a notification to the webhook as Meta does: raw JSON, signed with the app secret (or as told). */
  async deliver(payload: unknown, signature: string | null = "valid"): Promise<number> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (signature === "valid") headers["x-hub-signature-256"] = hubSignature(body, this.appSecret);
    else if (signature !== null) headers["x-hub-signature-256"] = signature;
    const response = await fetch(this.webhookUrl, { method: "POST", headers, body });
    await response.text();
    return response.status;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === "GET") return this.phoneNumber(req, res);
    const match = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match) return graphError(res, 400, 100, "Unsupported post request.");
    this.calls += 1;
    if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
      return graphError(res, 401, 190, "Invalid OAuth access token - Cannot parse access token");
    }
    if (match[2] !== this.phoneNumberId)
      return graphError(res, 400, 100, "Unsupported post request. Object with ID does not exist");
    const failure = this.failures.shift();
    if (failure) return graphError(res, failure.status, failure.code, failure.message, failure.retryAfter);
    let body: Record<string, any>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return graphError(res, 400, 100, "Invalid parameter");
    }
    const problem = invalid(body);
    if (problem) return graphError(res, 400, 100, `(#100) Invalid parameter: ${problem}`);
    const outside = body.type !== "template" && this.now() - (this.lastInbound.get(body.to) ?? -Infinity) > WINDOW_MS;
    if (outside && this.windowFailure === "sync") {
      return graphError(res, 400, 131047, "(#131047) Re-engagement message");
    }
    const id = wamid();
    if (!outside) this.sent.push({ id, to: body.to, type: body.type, body });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        messaging_product: "whatsapp",
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id }],
      }),
    );
    if (outside) {
      const failed = this.status(id, body.to, "failed", [{ code: 131047, title: "Re-engagement message" }]);
      setTimeout(() => void this.deliver(failed).catch(() => undefined), 5);
    }
  }

  /** `GET /{version}/{phone-number-id}`: the number's fields, 401 code 190 for a wrong token, 400 code 100 for another id. */
  private phoneNumber(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/(v\d+\.\d+)\/(\d+)$/.exec((req.url ?? "").split("?")[0]!);
    if (req.headers.authorization !== `Bearer ${this.accessToken}`)
      return graphError(res, 401, 190, "Invalid OAuth access token - Cannot parse access token");
    if (!match || match[2] !== this.phoneNumberId) {
      const id = match?.[2] ?? "";
      return graphError(
        res,
        400,
        100,
        `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      );
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        verified_name: "Gatehouse Test",
        display_phone_number: "+1 555-078-3881",
        id: this.phoneNumberId,
        quality_rating: "GREEN",
      }),
    );
  }
}

/** What Meta refuses with code 100: the documented limits this channel can hit. */
function invalid(body: Record<string, any>): string | null {
  if (body.messaging_product !== "whatsapp") return "messaging_product";
  if (typeof body.to !== "string" || body.to === "") return "to";
  if (body.type === "text") {
    const text = body.text?.body;
    if (typeof text !== "string" || text.length === 0) return "text.body is required";
    if ([...text].length > 4096) return "text.body is longer than 4096 characters";
    return null;
  }
  if (body.type === "interactive") {
    const interactive = body.interactive;
    const buttons = interactive?.action?.buttons;
    if (interactive?.type !== "button" || !Array.isArray(buttons)) return "interactive.type";
    if ([...String(interactive.body?.text ?? "")].length > 1024)
      return "interactive.body.text is longer than 1024 characters";
    if (buttons.length < 1 || buttons.length > 3) return "buttons: at most 3";
    const ids = buttons.map((b: any) => String(b?.reply?.id ?? ""));
    const titles = buttons.map((b: any) => String(b?.reply?.title ?? ""));
    if (ids.some((id) => id.length === 0 || id.length > 256)) return "button id must be 1-256 characters";
    if (titles.some((t) => t.length === 0 || [...t].length > 20)) return "button title must be 1-20 characters";
    if (new Set(ids).size !== ids.length || new Set(titles).size !== titles.length)
      return "button ids and titles must be unique";
    return null;
  }
  if (body.type === "template")
    return typeof body.template?.name === "string" && typeof body.template?.language?.code === "string"
      ? null
      : "template";
  return "type";
}

function graphError(res: ServerResponse, status: number, code: number, message: string, retryAfter?: number): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(
    JSON.stringify({
      error: { message, type: "OAuthException", code, fbtrace_id: randomBytes(8).toString("base64url") },
    }),
  );
}

function contact(waId: string, name: string): Record<string, unknown> {
  return { profile: { name }, wa_id: waId };
}

export function wamid(): string {
  return `wamid.${randomBytes(24).toString("base64url")}`;
}

function ts(ms: number): string {
  return String(Math.floor(ms / 1000));
}
