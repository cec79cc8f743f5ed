import { createHash } from "node:crypto";
import type { ClientBase, Pool, PoolClient, QueryResult, QueryResultRow } from "pg";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import {
  CodeGenerationError,
  PairingCooldownError,
  PairingInputError,
  PairingLimitError,
  SecretMismatchError,
  StoreUnavailableError,
} from "../../pairing/errors.js";

/** How long any call may take before it fails (closed), unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 2000;

/** Schema names we accept: a plain lower-case identifier, short enough that `<schema>.audit` is a valid channel name. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,56}$/;

export function assertSchemaName(schema: unknown): asserts schema is string {
  if (typeof schema !== "string" || !SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `postgres schema must be 1-57 characters: a lower-case letter or '_' then lower-case letters, digits or '_' (got ${JSON.stringify(schema)})`,
    );
  }
}

/** The schema in the database cannot be used by this code (e.g. migrated by a newer gatehouse): the gateway must stop. */
export class PostgresSchemaError extends Error {
  override readonly name = "PostgresSchemaError";
}

/** Errors that are answers, not failures of the store: they pass through unchanged. */
function isDomainError(error: unknown): boolean {
  return (
    error instanceof PostgresSchemaError ||
    error instanceof PairingLimitError ||
    error instanceof PairingCooldownError ||
    error instanceof PairingInputError ||
    error instanceof CodeGenerationError ||
    error instanceof SecretMismatchError ||
    error instanceof StoreUnavailableError
  );
}

/** Anything else that goes wrong talking to PostgreSQL means the store is unavailable: callers fail closed. */
export function toStoreError(error: unknown): unknown {
  return isDomainError(error) ? error : new StoreUnavailableError("postgres", { cause: error });
}

/** SQLSTATEs after which the same transaction is simply run again: serialization failure and deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);
const MAX_ATTEMPTS = 5;

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export type Queryable = Pick<PoolClient, "query">;

/** Whether an optional filter can be sent as text: absent, or a string without U+0000. */
export function storable(value: unknown): boolean {
  return value === undefined || (typeof value === "string" && !value.includes("\u0000"));
}

/** A connection dedicated to LISTEN; release() closes it (it is never reused while listening). */
export interface ListenConnection {
  client: ClientBase;
  release(): void;
}

/** A pooled connection taken out for LISTEN: one of the pool's slots while anyone is subscribed. */
export function listenOnPool(pool: Pool): () => Promise<ListenConnection> {
  return async () => {
    const client = await pool.connect();
    return { client, release: () => client.release(true) };
  };
}

/**
 * One pool and one schema, shared by the pairing and session stores of one `openStores()` call: schema-qualified table
 * names, a deadline on every call, transactions serialised per key with an advisory lock, and error mapping.
 */
export class PostgresDatabase {
  readonly channel: string;
  private readonly lockSpace: number;

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    readonly timeoutMs: number,
    /** Where the LISTEN connection comes from: a pool slot by default, a separate connection for our own pool. */
    readonly connectListener: () => Promise<ListenConnection> = listenOnPool(pool),
  ) {
    assertSchemaName(schema);
    this.channel = `${schema}.audit`;
    this.lockSpace = hash32(`gatehouse:${schema}`);
  }

  /** `"schema"."name"`; the schema was validated, the names are ours. */
  table(name: string): string {
    return `"${this.schema}"."${name}"`;
  }

  /**
   * Runs one store call: it answers within the deadline or rejects with StoreUnavailableError, and any driver or server
   * error becomes StoreUnavailableError too (domain errors such as PairingLimitError pass through).
   */
  async call<T>(work: (deadline: CallDeadline) => Promise<T>, deadlineMs = this.timeoutMs): Promise<T> {
    try {
      return await runWithDeadline("postgres", deadlineMs, work);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Resolves when the server answers `SELECT 1` within the deadline; rejects with StoreUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.call(() => this.query("SELECT 1", [], true));
  }

  /** One statement on any pooled connection; named statements are prepared once per connection. */
  async query<R extends QueryResultRow>(text: string, values: unknown[] = [], prepared = false): Promise<QueryResult<R>> {
    return this.pool.query<R>(prepared ? { name: statementName(text), text, values } : { text, values });
  }

  /**
   * A checked-out connection for `work`. A connection that failed in any way is destroyed rather than reused, and an
   * 'error' event while we hold it (e.g. the server went away between statements) is absorbed instead of crashing.
   */
  async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    const onError = (error: Error): void => {
      failure = error;
    };
    client.on("error", onError);
    try {
      return await work(client);
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off("error", onError);
      client.release(failure && !isDomainError(failure) ? failure : undefined);
    }
  }

  /**
   * A READ COMMITTED transaction, holding an advisory transaction lock on `lockKey` (within this schema) when one is
   * given, so every change under the same key (e.g. one channel type) is serialised across processes; retried on
   * deadlock.
   */
  async transaction<T>(
    client: Queryable,
    lockKey: string | null,
    work: (tx: Queryable) => Promise<T>,
    deadline?: CallDeadline,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await client.query("BEGIN");
      try {
        if (lockKey !== null) {
          await client.query("SELECT pg_advisory_xact_lock($1::int, $2::int)", [this.lockSpace, hash32(lockKey)]);
        }
        const result = await work(client);
        // Past the deadline the caller has been told the call failed: roll back rather than commit unseen.
        deadline?.check();
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(sqlState(error) ?? "")) continue;
        throw error;
      }
    }
  }

  /** Appends one audit event inside the caller's transaction and notifies listeners when it commits. */
  async appendAudit(tx: Queryable, event: NewAuditRow): Promise<void> {
    await tx.query(
      `WITH ins AS (
         INSERT INTO ${this.table("audit")} (at, type, channel_type, channel_id, actor, kind, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7::json) RETURNING id
       )
       SELECT pg_notify($8, id::text) FROM ins`,
      [event.at, event.type, event.channelType, event.channelId, event.actor, event.kind ?? null, JSON.stringify(event.detail), this.channel],
    );
  }
}

export interface NewAuditRow {
  at: number;
  type: string;
  channelType: string;
  channelId: string;
  actor: string;
  kind?: string;
  detail: Record<string, unknown>;
}

/** A signed 32-bit hash, for advisory lock keys. */
function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readInt32BE(0);
}

/** The same text always gets the same statement name, so a connection prepares it once. */
function statementName(text: string): string {
  return `gh_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
}
