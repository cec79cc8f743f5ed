import { StoreUnavailableError } from "../../pairing/errors.js";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import type { LuaScript } from "./scripts.js";

/**
 * What the Redis stores need from a client: the shape of a node-redis (`redis` v5/v6) client. Commands go through
 * `sendCommand`, so node-redis pipelines everything issued in the same tick on one connection (auto-pipelining), and
 * replies are parsed the same whatever RESP version or type mapping the user's client was created with.
 */
export interface RedisClientLike {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  on(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  close(): Promise<void>;
  destroy(): void;
}

export const DEFAULT_TIMEOUT_MS = 2000;
/** Reconnect back-off: 50 ms doubling up to this, for ever, in the background. */
const MAX_RECONNECT_DELAY_MS = 1000;

type RedisModule = typeof import("redis");

/** Loads node-redis on demand, so only users of the Redis store need it installed. */
export async function loadRedisModule(): Promise<RedisModule> {
  try {
    return await import("redis");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error('the redis store needs the "redis" package (node-redis); install it with: npm install redis', {
        cause: error,
      });
    }
    throw error;
  }
}

export function assertTimeout(timeoutMs: unknown): number {
  if (timeoutMs === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError("timeoutMs must be a positive number of milliseconds");
  }
  return timeoutMs;
}

/** Rejects with StoreUnavailableError when `work` has not settled within `timeoutMs` (one timer, no extra promises). */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new StoreUnavailableError("redis", { cause: new Error(`no answer within ${timeoutMs} ms`) })),
      timeoutMs,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** How long to wait before reconnecting: 50 ms doubling up to MAX_RECONNECT_DELAY_MS, for ever. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS);
}

/**
 * node-redis's own timeout per command, turned off for the clients we create: every call is already bounded by the
 * store's deadline (which fails the gateway closed and replaces a silent reader), and node-redis arms it with an
 * `AbortSignal.timeout` per command, a 5 s timer that outlives the command, thousands of them a second on the
 * admission path. With no offline queue, a command waits in node-redis only while the socket takes it.
 */
export const COMMAND_OPTIONS = { timeout: 0 };

/**
 * Creates and connects a node-redis client that fails fast while Redis is away: no offline queue (a command issued
 * while disconnected rejects at once), reconnecting in the background for ever. Connecting itself must succeed within
 * `timeoutMs`, else StoreUnavailableError.
 */
export async function connectRedis(url: string, timeoutMs: number): Promise<RedisClientLike> {
  const { createClient } = await loadRedisModule();
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: COMMAND_OPTIONS,
    socket: {
      connectTimeout: timeoutMs,
      reconnectStrategy: reconnectDelay,
    },
  }) as unknown as RedisClientLike;
  // The client retries a refused connection for ever; the last socket error is why the deadline passed.
  let lastError: unknown;
  const ignore = (error?: unknown): void => {
    lastError = error;
  };
  client.on("error", ignore);
  const connecting = client.connect();
  connecting.catch(() => {});
  try {
    await withDeadline(connecting, timeoutMs);
  } catch (error) {
    client.destroy();
    if (error instanceof StoreUnavailableError && lastError !== undefined)
      throw new StoreUnavailableError("redis", { cause: lastError });
    throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError("redis", { cause: error });
  } finally {
    client.off("error", ignore);
  }
  return client;
}

/**
 * One client shared by the stores of one `openRedisStores()` call. Every call is bounded by the deadline and any
 * failure of Redis surfaces as StoreUnavailableError("redis"), so callers fail closed. A client we created is closed
 * when the last store using it closes; a client the user passed in stays theirs.
 */
export class RedisConnection {
  private users = 0;
  private shutDown = false;
  /** The last error the client reported; kept so an 'error' event never crashes the process. */
  lastError: Error | null = null;
  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  /**
   * `waitReplicas`: how many replicas must hold a pairing decision before it is reported done (Sentinel, Cluster), so
   * an acknowledged approval or revoke survives a failover to one of them; 0 waits for none.
   */
  constructor(
    readonly client: RedisClientLike,
    readonly timeoutMs: number,
    private readonly owned: boolean,
    readonly waitReplicas = 0,
  ) {
    client.on("error", this.onError);
  }

  /**
   * After a decision that must survive a failover: WAIT until `waitReplicas` replicas have every write this connection
   * sent so far, within half the deadline. Fewer: StoreUnavailableError, so the caller is told it failed (it may or may
   * not survive a failover, and the owner tries again) rather than told it is done.
   */
  async replicated(): Promise<void> {
    if (this.waitReplicas === 0) return;
    const waitMs = Math.max(1, Math.floor(this.timeoutMs / 2));
    const acknowledged = Number(await this.command(["WAIT", String(this.waitReplicas), String(waitMs)]));
    if (acknowledged >= this.waitReplicas) return;
    throw new StoreUnavailableError("redis", {
      cause: new Error(
        `only ${acknowledged} of ${this.waitReplicas} replicas acknowledged the write within ${waitMs} ms`,
      ),
    });
  }

  acquire(): this {
    this.users += 1;
    return this;
  }

  async release(): Promise<void> {
    this.users -= 1;
    if (this.users > 0 || this.shutDown) return;
    this.shutDown = true;
    if (this.owned) {
      // our listener stays: a late 'error' from a client being torn down must never crash the process
      await closeClient(this.client, this.timeoutMs);
    } else {
      this.client.off("error", this.onError);
    }
  }

  /** Runs one store operation under the deadline; an operation of several commands checks it before each change. */
  run<T>(operation: (deadline: CallDeadline) => Promise<T>): Promise<T> {
    return runWithDeadline("redis", this.timeoutMs, operation);
  }

  async command(args: string[]): Promise<unknown> {
    try {
      return await this.client.sendCommand(args);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** EVALSHA, loading the script with EVAL the first time a server has not seen it. */
  eval(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return evalScript(this.client, script, keys, args);
  }

  /** Resolves when Redis answers a PING within the deadline. */
  async ping(): Promise<void> {
    await this.run(() => this.command(["PING"]));
  }

  /** A second connection (for blocking reads), failing quietly like this one. Connecting happens in the background. */
  duplicate(): RedisClientLike {
    const copy = this.client.duplicate();
    copy.on("error", () => {});
    return copy;
  }
}

/** EVALSHA on `client`, loading the script with EVAL the first time a server has not seen it. */
export async function evalScript(
  client: RedisClientLike,
  script: LuaScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await client.sendCommand(["EVALSHA", script.sha, ...tail]);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw unavailable(error);
  }
  try {
    return await client.sendCommand(["EVAL", script.source, ...tail]);
  } catch (error) {
    throw unavailable(error);
  }
}

function unavailable(error: unknown): StoreUnavailableError {
  return error instanceof StoreUnavailableError ? error : new StoreUnavailableError("redis", { cause: error });
}

/** Closes gracefully when connected (pending replies arrive), else at once; never hangs past the deadline. */
export async function closeClient(client: RedisClientLike, timeoutMs: number): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  try {
    await withDeadline(client.close(), timeoutMs);
  } catch {
    client.destroy();
  }
}
