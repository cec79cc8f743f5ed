import mysql from "mysql2/promise";
import { serializePrincipal } from "../../src/stores/principal.js";
import { batches, type Population } from "./dataset.js";

const BATCH = 5_000;

async function withConnection<T>(url: string, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const target = new URL(url);
  const connection = await mysql.createConnection({
    host: target.hostname,
    port: Number(target.port || 3306),
    user: decodeURIComponent(target.username) || "root",
    password: target.password === "" ? undefined : decodeURIComponent(target.password),
    database: target.pathname.slice(1),
  });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

/**
 * Writes paired senders and their sessions into the tables under `prefix` (src/stores/mariadb/schema.ts): one
 * multi-row INSERT per batch of 5k rows, one transaction per batch, then ANALYZE so the optimiser knows the sizes.
 */
export async function seedMariaDb(
  url: string,
  prefix: string,
  people: Population,
  from: number,
  to: number,
): Promise<void> {
  await withConnection(url, async (connection) => {
    const now = Date.now();
    for (const [start, end] of batches(to - from, BATCH)) {
      const pairs: unknown[][] = [];
      const sessions: unknown[][] = [];
      for (let i = from + start; i < from + end; i++) {
        pairs.push([people.channelType, people.idOf(i), people.labelOf(i), now, "owner"]);
        sessions.push([people.sessionOf(i), serializePrincipal(people.principalOf(i)), now]);
      }
      await connection.beginTransaction();
      await connection.query(
        `INSERT INTO \`${prefix}paired\` (channel_type, channel_id, label, paired_at, approved_by) VALUES ?`,
        [pairs],
      );
      await connection.query(`INSERT INTO \`${prefix}sessions\` (session_id, principal, last_seen) VALUES ?`, [
        sessions,
      ]);
      await connection.commit();
    }
    await connection.query(`ANALYZE TABLE \`${prefix}paired\`, \`${prefix}sessions\``);
  });
}

export async function dropMariaDbTables(url: string, prefix: string): Promise<void> {
  await withConnection(url, async (connection) => {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?",
      [`${prefix.replace(/_/g, "\\_")}%`],
    );
    for (const row of rows) await connection.query(`DROP TABLE IF EXISTS \`${String(row.name)}\``);
  });
}
