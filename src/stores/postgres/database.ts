import { createHash } from "node:crypto";
import type { ClientBase, CustomTypesConfig, Pool, PoolClient, QueryResultRow } from "pg";
import { runWithDeadline, type CallDeadline } from "../deadline.js";
import type { SqlDialect, SqlDriver, SqlExecutor } from "../sql/driver.js";
import { inTransaction, PooledSqlDriver } from "../sql/pooled.js";

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

/** SQLSTATEs after which the same transaction is simply run again: serialization failure and deadlock. */
const RETRYABLE = new Set(["40001", "40P01"]);
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
/** pg's type id of `json`: handed to the stores as text, like every other backend's. */
const JSON_TYPE = 114;

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

const dialect = (schema: string): SqlDialect => {
  const insert = (table: string, columns: readonly string[], values: readonly string[]): string =>
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${values.join(", ")})`;
  return {
    table: (name) => `"${schema}"."${name}"`,
    upsert: (table, columns, key, update, values = columns.map(() => "?")) =>
      `${insert(table, columns, values)} ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${update.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}`,
    insertIfAbsent: (table, columns, key) =>
      `${insert(
        table,
        columns,
        columns.map(() => "?"),
      )} ON CONFLICT (${key.join(", ")}) DO NOTHING`,
    keyColumn: "key",
    seqValue: null,
    textAsBytes: true,
    approvalOrder: "id",
  };
};

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the stores' SQL has no `?` anywhere else). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A signed 32-bit hash, for advisory lock keys. */
function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readInt32BE(0);
}

/** The same text always gets the same statement name, so a connection prepares it once. */
function statementName(text: string): string {
  return `gh_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
}

/**
 * The SQL stores' driver on a pg Pool and one schema. A write is a READ COMMITTED transaction holding the schema's
 * advisory write lock until it commits; the LISTEN/NOTIFY wake-up of audit followers is this backend's extra.
 */
export class PostgresDriver extends PooledSqlDriver implements SqlDriver {
  readonly backend = "postgres";
  readonly dialect: SqlDialect;
  protected override readonly answers = [PostgresSchemaError];
  /** The NOTIFY channel of this schema's audit log. */
  readonly channel: string;
  private readonly lockSpace: number;
  private readonly types: CustomTypesConfig;
  private readonly sql = new Map<string, string>();
  protected readonly statements: SqlExecutor;

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    timeoutMs: number,
    getTypeParser: CustomTypesConfig["getTypeParser"],
    endPool: () => Promise<void>,
    /** Where the LISTEN connection comes from: a pool slot by default, a separate connection for our own pool. */
    private readonly connectListener: () => Promise<ListenConnection> = listenOnPool(pool),
  ) {
    super(timeoutMs, endPool);
    assertSchemaName(schema);
    this.dialect = dialect(schema);
    this.channel = `${schema}.audit`;
    this.lockSpace = hash32(`gatehouse:${schema}`);
    this.types = {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === JSON_TYPE ? (text: string) => text : getTypeParser(oid, format)) as CustomTypesConfig["getTypeParser"],
    };
    this.statements = this.executor(pool);
  }

  /** `"schema"."name"`. */
  table(name: string): string {
    return this.dialect.table(name);
  }

  /** A hot statement, prepared once per connection under a name. */
  async prepared<R extends QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>({ name: statementName(text), text, values, types: this.types })).rows;
  }

  async write<T>(work: (tx: SqlExecutor) => Promise<T>, deadline: CallDeadline): Promise<T> {
    return this.withClient(async (client) => {
      const tx = this.executor(client, deadline);
      const steps = {
        begin: () => tx.execute("BEGIN"),
        commit: () => client.query("COMMIT"),
        rollback: () =>
          client.query("ROLLBACK").then(
            () => true,
            () => false,
          ),
        retryable: (error: unknown) => RETRYABLE.has(String((error as { code?: unknown } | null)?.code)),
      };
      return inTransaction(steps, deadline, async () => {
        await tx.execute(`SELECT pg_advisory_xact_lock(${this.lockSpace}, 0)`);
        return work(tx);
      });
    });
  }

  /** NOTIFY is delivered when the transaction commits, and once however many events it appended. */
  async announce(tx: SqlExecutor): Promise<void> {
    await tx.get("SELECT pg_notify(?, '') AS sent", [this.channel]);
  }

  /** LISTEN on a connection of its own while anyone follows the log; when it drops it is re-established with backoff. */
  listen(wake: () => void): { ready: Promise<void>; stop(): void } {
    let current: ListenConnection | null = null;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let delay = RECONNECT_MIN_MS;
    const connect = async (): Promise<void> => {
      const taking = this.connectListener();
      const connection = await runWithDeadline(this.backend, this.timeoutMs, () => taking).catch((error: unknown) => {
        // Given up at the deadline: a connection the pool hands over later is closed, not left holding its slot.
        taking.then(
          (late) => late.release(),
          () => undefined,
        );
        throw error;
      });
      if (stopped) return connection.release();
      const { client } = connection;
      const dropped = (): void => {
        if (current !== connection) return;
        current = null;
        connection.release();
        retry();
      };
      client.on("error", dropped);
      client.on("end", dropped);
      client.on("notification", (message) => {
        if (message.channel === this.channel) wake();
      });
      try {
        await runWithDeadline(this.backend, this.timeoutMs, async () => {
          await client.query(`LISTEN "${this.channel}"`);
          // Where the log ends, read on this connection: it answers, and events committed meanwhile are caught up.
          await client.query(`SELECT coalesce(max(id), 0) AS id FROM ${this.table("audit")}`);
        });
      } catch (error) {
        client.off("end", dropped);
        connection.release();
        throw error;
      }
      if (stopped) return connection.release();
      current = connection;
      delay = RECONNECT_MIN_MS;
      wake();
    };
    const retry = (): void => {
      if (stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        connect().catch(retry);
      }, delay);
      timer.unref();
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    };
    const ready = connect().catch(retry);
    return {
      ready,
      stop: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        // The connection held LISTEN: it is closed, never handed back to a pool still listening.
        current?.release();
        current = null;
      },
    };
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
      client.release(failure && !this.isAnswer(failure) ? failure : undefined);
    }
  }

  /** Statements on the pool or one client; with a deadline, none is sent once it has passed. */
  executor(queryable: Pick<Pool, "query">, deadline?: CallDeadline): SqlExecutor {
    const query = async <R extends QueryResultRow>(sql: string, params: readonly unknown[] = []) => {
      deadline?.check();
      let text = this.sql.get(sql);
      if (text === undefined) this.sql.set(sql, (text = numbered(sql)));
      return queryable.query<R>({ text, values: params.map((value) => value ?? null), types: this.types });
    };
    return {
      execute: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
      get: async <T>(sql: string, params?: readonly unknown[]) =>
        ((await query(sql, params)).rows[0] as T | undefined) ?? null,
      all: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows as T[],
    };
  }
}
