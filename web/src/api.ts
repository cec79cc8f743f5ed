/** Talks to the gateway: the console cookie rides along automatically; the CSRF value is added to state-changing calls. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Principal {
  userId: string;
  role: string;
  [key: string]: unknown;
}

export interface ConsoleSessionInfo {
  principal: Principal;
  csrf: string;
  /** The channel types this gateway runs (its channels and webchat). */
  channelTypes?: string[];
}

let csrfValue: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrf(value: string | null): void {
  csrfValue = value;
}

/** Called once whenever the gateway says the console session is gone (401). */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

interface ErrorPayload {
  error?: { code?: unknown; message?: unknown };
}

export async function api<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfValue !== null) headers["x-gatehouse-csrf"] = csrfValue;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the gateway. Check that it is running, then try again.");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text === "" ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data as ErrorPayload | null)?.error;
    const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const message = typeof error?.message === "string" ? error.message : `The gateway answered ${response.status}.`;
    if (response.status === 401 && !path.startsWith("/console/login")) onSignedOut?.();
    throw new ApiError(response.status, code, message);
  }
  return data as T;
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

/** `ws://host/ws` or `wss://host/ws` for this page. */
export function socketUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}
