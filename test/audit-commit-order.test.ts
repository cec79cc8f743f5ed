import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { AuditEvent, Stores } from "../src/stores/types.js";
import { MARIADB_URL, testPrefixes } from "./mariadb-helpers.js";
import { POSTGRES_URL, testSchemas } from "./postgres-helpers.js";
import { until } from "./support/until.js";

/**
 * Issue 15 item 3: a reader following the audit log (subscribe() or audit({ after })) gets every event exactly once,
 * in commit order, even when a writer that has taken an event id is held up before it commits while another
 * instance writes. The hold-up is real: a second client locks the redeem_failures row that a failed redemption
 * updates right after appending its `redeem-failed` event.
 */

const secret = randomBytes(32);
/** Generous: instance A waits on the held row for as long as the test takes to look. */
const timeoutMs = 20_000;
const WAIT_MS = 15_000;

/** A second client of the database: holds a row lock, and counts the store's connections waiting on a lock. */
interface Holder {
  lockRedeemFailures(redeemer: string): Promise<void>;
  commit(): Promise<void>;
  /** Statements of the stores under test now waiting for a lock. */
  lockWaits(): Promise<number>;
  end(): Promise<void>;
}

interface Backend {
  name: string;
  available: boolean;
  open(): Promise<() => Promise<Stores>>;
  holder(): Promise<Holder>;
}

const postgres = await testSchemas("o");
const mariadb = await testPrefixes("o");
let tables = "";

const backends: Backend[] = [
  {
    name: "postgres",
    available: postgres.available,
    open: async () => {
      const url = postgres.nextUrl();
      tables = new URL(url).searchParams.get("schema") ?? "";
      return () => openPostgresStores(url, { secret, timeoutMs, poolSize: 3 });
    },
    holder: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      const schema = tables;
      return {
        lockRedeemFailures: async (redeemer) => {
          await client.query("BEGIN");
          const locked = await client.query(
            `SELECT 1 FROM "${schema}".redeem_failures WHERE redeemer = $1 FOR UPDATE`,
            [redeemer],
          );
          expect(locked.rowCount).toBe(1);
        },
        commit: async () => void (await client.query("COMMIT")),
        lockWaits: async () => {
          const waiting = await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            [`gatehouse:${schema}`],
          );
          return waiting.rows[0]?.n ?? 0;
        },
        end: () => client.end(),
      };
    },
  },
  {
    name: "mariadb",
    available: mariadb.available,
    open: async () => {
      const url = mariadb.nextUrl();
      tables = new URL(url).searchParams.get("prefix") ?? "";
      return () => openMariaDbStores(url, { secret, timeoutMs, poolSize: 3 });
    },
    holder: async () => {
      const url = new URL(MARIADB_URL);
      const options = {
        host: url.hostname,
        port: Number(url.port || 3306),
        user: url.username || "root",
        database: url.pathname.slice(1),
      };
      // Waits are read on a connection outside the holding transaction.
      const [connection, watcher] = [await mysql.createConnection(options), await mysql.createConnection(options)];
      const prefix = tables;
      return {
        lockRedeemFailures: async (redeemer) => {
          await connection.query("START TRANSACTION");
          const [rows] = await connection.query<mysql.RowDataPacket[]>(
            `SELECT 1 FROM \`${prefix}redeem_failures\` WHERE redeemer = ? FOR UPDATE`,
            [redeemer],
          );
          expect(rows.length).toBe(1);
        },
        commit: async () => void (await connection.query("COMMIT")),
        lockWaits: async () => {
          // A statement of A (the held row) or B (the write lock) that is still running is waiting: the rest take
          // milliseconds. (innodb_trx does not always list such a wait; the process list does.)
          const [rows] = await watcher.query<mysql.RowDataPacket[]>(
            "SELECT count(*) AS n FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND (info LIKE ? OR info LIKE ?)",
            [`%${prefix}redeem_failures%`, `%${prefix}locks%FOR UPDATE%`],
          );
          return Number(rows[0]?.n ?? 0);
        },
        end: async () => {
          await connection.end();
          await watcher.end();
        },
      };
    },
  },
];

/** Everything after `after`, page by page, as the console and other instances read it. */
async function pageFrom(stores: Stores, after: string | undefined): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let cursor = after; ; ) {
    const page = await stores.pairing.audit({ after: cursor, limit: 2 });
    events.push(...page.events);
    cursor = page.events.at(-1)?.id ?? cursor;
    if (page.next === null) return events;
  }
}

const label = (event: AuditEvent): string => `${event.type}:${event.channelId}`;

for (const backend of backends) {
  describe.runIf(backend.available)(`${backend.name} store: the audit log in commit order`, () => {
    it("a reader paging audit({ after }) and a subscriber each see an event that commits after a later-written one, once and in order", async () => {
      const openInstance = await backend.open();
      const [a, b, reader] = [await openInstance(), await openInstance(), await openInstance()];
      const holder = await backend.holder();
      try {
        // Mallory's first wrong guess creates the failure row that A's next guess will update.
        expect(await a.pairing.approve("telegram", "WRNGAAAA", "mallory")).toBe(false);
        const start = (await pageFrom(reader, undefined)).at(-1)?.id;
        const subscribed: AuditEvent[] = [];
        reader.pairing.subscribe((event) => subscribed.push(event));
        const paged: AuditEvent[] = [];
        let cursor = start;
        const follow = async (): Promise<void> => {
          const events = await pageFrom(reader, cursor);
          paged.push(...events);
          cursor = events.at(-1)?.id ?? cursor;
        };

        // A appends `redeem-failed` for mallory, then waits on the held row before it can commit.
        await holder.lockRedeemFailures("mallory");
        const slow = a.pairing.approve("telegram", "WRNGBBBB", "mallory");
        await until(async () => (await holder.lockWaits()) >= 1, "A to wait on the held row", WAIT_MS);
        // B writes meanwhile: either it commits now (its event id is higher than A's), or it waits its turn.
        let quickDone = false;
        const quick = b.pairing.generateCode("telegram", "bob").finally(() => {
          quickDone = true;
        });
        await until(async () => quickDone || (await holder.lockWaits()) >= 2, "B to commit or wait", WAIT_MS);
        await follow();
        await holder.commit();
        expect(await slow).toBe(false);
        await quick;
        await follow();

        const expected = ["redeem-failed:mallory", "requested:bob"];
        expect(paged.map(label)).toEqual(expected);
        await expect.poll(() => subscribed.map(label), { timeout: WAIT_MS }).toEqual(expected);
        expect(new Set(paged.map((e) => e.id)).size).toBe(2);
      } finally {
        await holder.end();
        await Promise.all([a.close(), b.close(), reader.close()]);
      }
    });
  });
}
