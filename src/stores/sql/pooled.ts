import {
  CodeGenerationError,
  PairingInputError,
  SecretMismatchError,
  StoreUnavailableError,
} from "../../pairing/errors.js";
import type { CallDeadline } from "../deadline.js";
import type { SqlDialect, SqlDriver, SqlExecutor } from "./driver.js";

/**
 * What the SQL backends that reach a server through a client pool (PostgreSQL, MariaDB/MySQL) share beyond the SQL
 * stores themselves: their options' checks, loading the client library, the transaction loop and the driver's
 * plumbing. What is left in each backend's folder is what differs: its client, dialect, lock and migrations.
 */

/** How long any call may take before it fails (closed), unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_POOL_SIZE = 10;
const MAX_POOL_SIZE = 1000;
/** Attempts of a transaction that failed on a deadlock or serialization failure. */
const MAX_ATTEMPTS = 5;

export function resolveTimeout(backend: string, timeoutMs: number | undefined): number {
  const value = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`${backend} timeoutMs must be a positive number (got ${String(value)})`);
  return Math.ceil(value);
}

/** The pool size: the first one given (options, then URL), else 10; an integer from 1 to 1000. */
export function resolvePoolSize(backend: string, ...given: (number | undefined)[]): number {
  const size = given.find((value) => value !== undefined) ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE)
    throw new TypeError(`${backend} poolSize must be an integer from 1 to ${MAX_POOL_SIZE} (got ${String(size)})`);
  return size;
}

/** The URL's `?pool=` parameter, when given. */
export function poolParameter(backend: string, url: URL): number | undefined {
  const pool = url.searchParams.get("pool");
  if (pool === null) return undefined;
  if (!/^\d+$/.test(pool))
    throw new TypeError(`${backend} URL parameter pool must be a positive integer (got "${pool}")`);
  return Number(pool);
}

/** The client library, an optional peer dependency loaded only when its backend is configured. */
export async function loadClientLibrary<T>(
  backend: string,
  packageName: string,
  load: () => Promise<T & { default?: T }>,
): Promise<T> {
  try {
    const loaded = await load();
    return loaded.default ?? loaded;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(`the ${backend} store needs the "${packageName}" package: run \`npm install ${packageName}\``, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Refuses what is not the client the backend takes (a user-supplied pool), naming the methods it needs. */
export function assertClient(value: unknown, methods: readonly string[], message: string): void {
  const candidate = value as Record<string, unknown> | null;
  if (candidate === null || typeof candidate !== "object" || methods.some((m) => typeof candidate[m] !== "function"))
    throw new TypeError(message);
}

type ErrorClass = abstract new (...args: never[]) => Error;

const ANSWERS: readonly ErrorClass[] = [
  StoreUnavailableError,
  CodeGenerationError,
  PairingInputError,
  SecretMismatchError,
];

/** Errors that are answers, not failures of the store: they pass through unchanged. */
export function isStoreAnswer(error: unknown, more: readonly ErrorClass[] = []): boolean {
  return [...ANSWERS, ...more].some((type) => error instanceof type);
}

/** One transaction's statements on one connection; `rollback` resolves false when the connection is no longer usable. */
export interface TransactionSteps {
  begin(): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): Promise<boolean>;
  /** A failure after which the same transaction is simply run again (deadlock, lock wait, serialization). */
  retryable(error: unknown): boolean;
}

/**
 * Runs `work` between begin and commit; past the deadline it rolls back instead (the caller has been told the call
 * failed), and a retryable failure runs it again while there is time and the connection is usable.
 */
export async function inTransaction<T>(
  steps: TransactionSteps,
  deadline: CallDeadline,
  work: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await steps.begin();
    try {
      const result = await work();
      deadline.check();
      await steps.commit();
      return result;
    } catch (error) {
      const usable = await steps.rollback();
      if (usable && !deadline.passed() && attempt < MAX_ATTEMPTS && steps.retryable(error)) continue;
      throw error;
    }
  }
}

/**
 * A driver on a client pool: statements outside a transaction go to the pool (`statements`), failures that are not
 * answers become StoreUnavailableError, and close ends the pool when the stores opened it.
 */
export abstract class PooledSqlDriver implements Pick<SqlDriver, "execute" | "get" | "all" | "failure" | "close"> {
  abstract readonly backend: SqlDriver["backend"];
  abstract readonly dialect: SqlDialect;
  protected abstract readonly statements: SqlExecutor;
  /** Errors of this backend that are answers too. */
  protected readonly answers: readonly ErrorClass[] = [];

  constructor(
    readonly timeoutMs: number,
    private readonly endPool: () => Promise<void>,
  ) {}

  execute(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.statements.execute(sql, params);
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | null> {
    return this.statements.get<T>(sql, params);
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.statements.all<T>(sql, params);
  }

  isAnswer(error: unknown): boolean {
    return isStoreAnswer(error, this.answers);
  }

  failure(error: unknown): unknown {
    return this.isAnswer(error) ? error : new StoreUnavailableError(this.backend, { cause: error });
  }

  close(): Promise<void> {
    return this.endPool();
  }
}
