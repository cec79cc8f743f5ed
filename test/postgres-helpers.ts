import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll } from "vitest";

/** The PostgreSQL this machine runs for tests (trust auth, database `test`). */
export const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name no other run uses: `gh_test_<random>`. */
export function uniqueSchema(tag = ""): string {
  return `gh_test_${tag}${randomBytes(6).toString("hex")}`;
}

export function urlWithSchema(schema: string, base = POSTGRES_URL): string {
  return `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`;
}

/**
 * Whether the test PostgreSQL answers. In CI a missing server is a failure, never a silent skip: the caller throws.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (process.env.CI === "true") {
      throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable and CI=true: the postgres tests cannot run`, {
        cause: error,
      });
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops every schema whose name starts with `prefix` (the schemas one test file created). */
export async function dropSchemas(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const rows = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
      [prefix],
    );
    for (const { nspname } of rows.rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The fresh schemas one test file opens its stores in: all under one run-unique prefix, all dropped after the file. */
export interface TestSchemas extends Pick<SchemaNames, "next" | "nextUrl"> {
  /** Whether the test PostgreSQL answers ({@link postgresAvailable}); when it does not, nothing is dropped. */
  readonly available: boolean;
}

/** Fresh schema names under one run-unique prefix, and a way to drop them all; {@link testSchemas} wires it to afterAll. */
export interface SchemaNames {
  /** A schema name no earlier call returned: `<prefix>1`, `<prefix>2`, ... */
  next(): string;
  /** The test PostgreSQL's URL for a schema from next(). */
  nextUrl(): string;
  /** Drops every schema under the prefix. */
  drop(): Promise<void>;
}

/** Schema names `gh_test_<tag><random>_<n>`; nothing is created or dropped until the caller does. */
export function schemaNames(tag = ""): SchemaNames {
  const prefix = `${uniqueSchema(tag)}_`;
  let counter = 0;
  const next = (): string => `${prefix}${++counter}`;
  return { next, nextUrl: () => urlWithSchema(next()), drop: () => dropSchemas(prefix) };
}

/**
 * Schemas for one test file, named `gh_test_<tag><random>_<n>`. Registers the file's `afterAll`: `beforeDrop` first
 * (e.g. closing stores still open on them), then every schema under the prefix is dropped.
 */
export async function testSchemas(tag = "", beforeDrop?: () => Promise<unknown>): Promise<TestSchemas> {
  const names = schemaNames(tag);
  const available = await postgresAvailable();
  afterAll(async () => {
    await beforeDrop?.();
    if (available) await names.drop();
  });
  return { available, next: names.next, nextUrl: names.nextUrl };
}
