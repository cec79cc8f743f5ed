import type { ChannelProbeResult } from "./descriptor.js";

/** A platform's answer to a probe request: its HTTP status and JSON body (undefined when the body is not JSON). */
export interface ProbeAnswer {
  status: number;
  statusText: string;
  body: unknown;
  /** host[:port] of the URL, for messages. */
  host: string;
}

/**
 * One HTTP request a channel probe makes for `gatehouse doctor`: aborted past `timeoutMs`, a network failure named by
 * host and real cause ("cannot reach api.telegram.org: getaddrinfo ENOTFOUND …", "… no answer within 5 s"), and every
 * secret scrubbed from what it returns. Resolves with the answer, whatever its status, or with the problem.
 */
export async function probeRequest(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<ProbeAnswer | { ok: false; problem: string }> {
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { ok: false, problem: scrubSecrets(`cannot reach ${host}: ${networkReason(error, timeoutMs)}`, secrets) };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError")
      return { ok: false, problem: `cannot reach ${host}: no complete answer within ${timeoutMs / 1000} s` };
    body = undefined;
  }
  return { status: response.status, statusText: scrubSecrets(response.statusText, secrets), body, host };
}

/** True when probeRequest could not get an answer. */
export function isProbeProblem(
  value: ProbeAnswer | { ok: false; problem: string },
): value is { ok: false; problem: string } {
  return "problem" in value;
}

/** A failed probe whose text has every secret replaced by ***. */
export function probeProblem(problem: string, secrets: readonly string[]): ChannelProbeResult {
  return { ok: false, problem: scrubSecrets(problem, secrets) };
}

/** The real cause of a failed fetch: a timeout, or the socket error undici wraps in `cause` (ECONNREFUSED, ENOTFOUND...). */
function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return secrets.filter((secret) => secret.length > 0).reduce((out, secret) => out.split(secret).join("***"), text);
}

/** A probe's token read from the section: the token, or the problem `start` would report (a missing variable...). */
export function probeToken(read: () => string): { token: string } | { ok: false; problem: string } {
  try {
    return { token: read() };
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}
