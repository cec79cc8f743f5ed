/** Helpers for the MariaDB/MySQL store tests: the machine's test server, run-unique table prefixes, cleanup. */
import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { afterAll } from "vitest";

/** The MariaDB this machine runs for tests (root without a password, database `test`); scripts/services.sh starts it. */
export const MARIADB_URL = process.env.GATEHOUSE_TEST_MARIADB_URL ?? "mysql://root@127.0.0.1:3306/test";

async function connect(): Promise<mysql.Connection> {
  const url = new URL(MARIADB_URL);
  return mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: url.username || "root",
    database: url.pathname.slice(1),
    connectTimeout: 2000,
  });
}

/** Whether the test MariaDB answers. With CI=true a missing server is a failure, never a skip. */
export async function mariadbAvailable(): Promise<boolean> {
  try {
    const connection = await connect();
    await connection.end();
    return true;
  } catch (error) {
    if (process.env.CI === "true")
      throw new Error(`MariaDB at ${MARIADB_URL} is unreachable and CI=true: the mariadb tests cannot run`, {
        cause: error,
      });
    console.warn(
      `\n*** MariaDB at ${MARIADB_URL} is not reachable: SKIPPING the mariadb store tests (they fail when CI=true) ***\n`,
    );
    return false;
  }
}

/** Drops every table whose name starts with `prefix`. */
export async function dropTables(prefix: string): Promise<void> {
  const connection = await connect();
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?",
      [`${prefix.replace(/_/g, "\\_")}%`],
    );
    for (const row of rows) await connection.query(`DROP TABLE IF EXISTS \`${String(row.name)}\``);
  } finally {
    await connection.end();
  }
}

/**
 * Table prefixes for one test file, `gh_<tag><random>_<n>_`, all dropped after the file (after `beforeDrop`, e.g.
 * closing stores still open on them).
 */
export async function testPrefixes(
  tag = "",
  beforeDrop?: () => Promise<unknown>,
): Promise<{ available: boolean; nextUrl: () => string; base: string }> {
  const base = `gh_${tag}${randomBytes(4).toString("hex")}_`;
  let counter = 0;
  const available = await mariadbAvailable();
  afterAll(async () => {
    await beforeDrop?.();
    if (available) await dropTables(base);
  });
  return { available, base, nextUrl: () => `${MARIADB_URL}?prefix=${base}${++counter}_` };
}
