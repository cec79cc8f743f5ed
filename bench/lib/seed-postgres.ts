import pg from "pg";
import { serializePrincipal } from "../../src/stores/principal.js";
import { batches, type Population } from "./dataset.js";

const BATCH = 20_000;

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: "gatehouse-bench" });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Writes paired senders and their sessions into the schema's tables (src/stores/postgres/migrations.ts) with one
 * `INSERT … SELECT FROM unnest(arrays)` per batch of 20k rows, then ANALYZE so the planner knows the sizes.
 */
export async function seedPostgres(
  url: string,
  schema: string,
  people: Population,
  from: number,
  to: number,
): Promise<void> {
  const table = (name: string): string => `"${schema}"."${name}"`;
  await withClient(url, async (client) => {
    const now = Date.now();
    for (const [start, end] of batches(to - from, BATCH)) {
      const ids: string[] = [];
      const labels: string[] = [];
      const sessions: string[] = [];
      const principals: string[] = [];
      for (let i = from + start; i < from + end; i++) {
        ids.push(people.idOf(i));
        labels.push(people.labelOf(i));
        sessions.push(people.sessionOf(i));
        principals.push(serializePrincipal(people.principalOf(i)));
      }
      await client.query(
        `INSERT INTO ${table("paired")} (channel_type, channel_id, label, paired_at, approved_by)
         SELECT $1, id, label, $4, 'owner' FROM unnest($2::text[], $3::text[]) AS t(id, label)`,
        [people.channelType, ids, labels, now],
      );
      await client.query(
        `INSERT INTO ${table("sessions")} (session_id, principal, last_seen)
         SELECT id, principal, $3 FROM unnest($1::text[], $2::text[]) AS t(id, principal)`,
        [sessions, principals, now],
      );
    }
    await client.query(`ANALYZE ${table("paired")}`);
    await client.query(`ANALYZE ${table("sessions")}`);
  });
}

export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}
