import type { GatewayLogger } from "../../core/context.js";

/** Graph API error codes the channel acts on (Meta's WhatsApp Cloud API error reference). */
export const WHATSAPP_ERRORS = {
  /** Free-form message outside the 24-hour customer-service window ("Re-engagement message"). */
  reEngagement: 131047,
  /** Cloud API throughput reached. */
  throughput: 130429,
  /** Too many messages to one recipient in a short time (pair rate limit). */
  pairRateLimit: 131056,
  /** Invalid or expired access token (OAuthException). */
  invalidToken: 190,
} as const;

const RETRYABLE_CODES = new Set<number>([
  WHATSAPP_ERRORS.throughput,
  WHATSAPP_ERRORS.pairRateLimit,
  4,
  80007,
  131000,
  131016,
]);

/** A refused Graph API call: HTTP status and Meta's error code; the message is Meta's title, never the token or the text. */
export class WhatsAppApiError extends Error {
  override readonly name = "WhatsAppApiError";
  constructor(
    readonly status: number,
    readonly code: number | null,
    readonly title: string,
  ) {
    super(`WhatsApp API refused the request (HTTP ${status}${code === null ? "" : `, code ${code}`}): ${title}`);
  }

  get retryable(): boolean {
    return this.status === 429 || this.status >= 500 || (this.code !== null && RETRYABLE_CODES.has(this.code));
  }
}

export interface GraphClientOptions {
  /** e.g. https://graph.facebook.com */
  baseUrl: string;
  /** e.g. v21.0 */
  version: string;
  phoneNumberId: string;
  accessToken: string;
  /** Deadline for one HTTP call. Default 10 s. */
  timeoutMs?: number;
  /** Attempts for retryable failures (429, 5xx, throughput codes). Default 4. */
  attempts?: number;
  /** First backoff delay; doubled each retry, capped by retry-after when Meta sends one. Default 500 ms. */
  backoffMs?: number;
  logger: () => GatewayLogger;
}

interface SendResult {
  messages?: Array<{ id?: string }>;
}

/** `POST /{version}/{phone-number-id}/messages` with the bearer token, retrying what Meta says is transient. */
export class GraphClient {
  private readonly url: string;

  constructor(private readonly options: GraphClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, "");
    this.url = `${base}/${encodeURIComponent(options.version)}/${encodeURIComponent(options.phoneNumberId)}/messages`;
  }

  /** Sends one message object (`to`, `type`, …); resolves with Meta's message id (wamid). */
  async sendMessage(message: Record<string, unknown>): Promise<string> {
    const attempts = this.options.attempts ?? 4;
    let delay = this.options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.post({ messaging_product: "whatsapp", recipient_type: "individual", ...message });
      } catch (error) {
        const retryable = error instanceof WhatsAppApiError ? error.retryable : isNetworkError(error);
        if (!retryable || attempt >= attempts) throw error;
        const wait = error instanceof RetryAfter ? Math.max(delay, error.ms) : delay;
        this.options.logger().warn("whatsapp send retried", { attempt, waitMs: wait, error: describe(error) });
        await sleep(wait);
        delay *= 2;
      }
    }
  }

  private async post(body: Record<string, unknown>): Promise<string> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { authorization: `Bearer ${this.options.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    const json = parseJson(text);
    if (response.ok) {
      const id = (json as SendResult | null)?.messages?.[0]?.id;
      return typeof id === "string" ? id : "";
    }
    const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === "number" ? error.code : null;
    const title = typeof error?.message === "string" ? error.message.slice(0, 200) : response.statusText;
    const refused = new WhatsAppApiError(response.status, code, title);
    const retryAfter = Number(response.headers.get("retry-after"));
    if (refused.retryable && Number.isFinite(retryAfter) && retryAfter > 0)
      throw new RetryAfter(refused, retryAfter * 1000);
    throw refused;
  }
}

/** A retryable refusal that named how long to wait. */
class RetryAfter extends WhatsAppApiError {
  constructor(
    error: WhatsAppApiError,
    readonly ms: number,
  ) {
    super(error.status, error.code, error.title);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isNetworkError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
  );
}

function describe(error: unknown): string {
  return error instanceof WhatsAppApiError ? error.message : error instanceof Error ? error.name : typeof error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
