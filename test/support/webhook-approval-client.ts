/**
 * A client that behaves like PraisonAI's WebhookApproval (praisonai/bots/_webhook_approval.py), step for step: POST the
 * request as JSON with the configured headers; a JSON answer holding "approved" is an immediate decision; otherwise
 * poll `<webhook_url>/<request_id>` with GET, sleeping `pollIntervalMs` BEFORE each poll, until a JSON answer holds
 * "approved" (or a status word), or the timeout passes (denied). A non-JSON answer or a failed poll is skipped, never
 * fatal; any error of the POST is a denial. Only the interval is injectable, so a test does not wait 5 s per poll.
 */
import { randomUUID } from "node:crypto";

export interface WebhookApprovalDecision {
  approved: boolean;
  reason: string;
  approver: string | null;
  timedOut?: boolean;
  polls: number;
}

export interface ToolRequest {
  tool_name: string;
  arguments: Record<string, unknown>;
  risk_level: string;
  agent_name: string | null;
  session_id: string | null;
  context: Record<string, unknown>;
}

export interface WebhookApprovalOptions {
  webhookUrl: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** Called once the POST has been answered (the test presses a button then). */
  onPosted?(requestId: string, answer: unknown): void | Promise<void>;
}

async function httpRequest(
  method: "GET" | "POST",
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    ...(method === "POST" ? { body: JSON.stringify(payload ?? {}) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  // aiohttp's resp.content_type is the media type without parameters.
  if ((response.headers.get("content-type") ?? "").split(";")[0]!.trim() === "application/json") return response.json();
  return { status: response.status, body: await response.text() };
}

export async function requestApproval(
  request: ToolRequest,
  options: WebhookApprovalOptions,
): Promise<WebhookApprovalDecision> {
  const requestId = randomUUID();
  const headers = options.headers ?? {};
  const timeoutMs = options.timeoutMs ?? 300_000;
  const interval = options.pollIntervalMs ?? 5_000;
  const payload = { request_id: requestId, ...request };
  let polls = 0;
  try {
    const posted = await httpRequest("POST", options.webhookUrl, headers, payload);
    if (posted && typeof posted === "object" && "approved" in posted) {
      const data = posted as Record<string, unknown>;
      return {
        approved: Boolean(data.approved),
        reason: String(data.reason ?? "Webhook immediate response"),
        approver: (data.approver as string) ?? null,
        polls,
      };
    }
    await options.onPosted?.(requestId, posted);
    const statusUrl = `${options.webhookUrl}/${requestId}`;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, interval));
      try {
        polls += 1;
        const data = await httpRequest("GET", statusUrl, headers);
        if (!data || typeof data !== "object") continue;
        const record = data as Record<string, unknown>;
        const status = record.status === undefined || record.status === null ? "" : String(record.status).toLowerCase();
        if (status === "pending") continue;
        if ("approved" in record) {
          return {
            approved: Boolean(record.approved),
            reason: String(record.reason ?? `Webhook decision for ${requestId}`),
            approver: (record.approver as string) ?? null,
            polls,
          };
        }
        if (["approved", "approve", "yes"].includes(status))
          return {
            approved: true,
            reason: String(record.reason ?? "Approved via webhook"),
            approver: (record.approver as string) ?? null,
            polls,
          };
        if (["denied", "deny", "rejected", "no"].includes(status))
          return {
            approved: false,
            reason: String(record.reason ?? "Denied via webhook"),
            approver: (record.approver as string) ?? null,
            polls,
          };
      } catch {
        // WebhookApproval logs a warning and keeps polling
      }
    }
    return {
      approved: false,
      reason: `Timed out waiting for webhook approval (${Math.floor(timeoutMs / 1000)}s)`,
      approver: null,
      timedOut: true,
      polls,
    };
  } catch (error) {
    return { approved: false, reason: `Webhook approval error: ${String(error)}`, approver: null, polls };
  }
}
