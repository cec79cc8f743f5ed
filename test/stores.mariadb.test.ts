import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";
import { openMariaDbStores } from "../src/stores/mariadb/index.js";
import { MARIADB_URL, testPrefixes } from "./mariadb-helpers.js";
import { describeSqlConformance } from "./support/sql-conformance.js";

// Every store gets its own table prefix, all dropped at the end.
const { available, nextUrl } = await testPrefixes("s");

describe.runIf(available)("mariadb stores", () => {
  describeSqlConformance("mariadb", openMariaDbStores, nextUrl);

  it("tables of an older gatehouse (before approvals and conversations) gain them on the next open, keeping pairings", async () => {
    const secret = randomBytes(32);
    const url = nextUrl();
    const prefix = new URL(url).searchParams.get("prefix")!;
    const first = await openMariaDbStores(url, { secret });
    await first.pairing.approve("telegram", await first.pairing.generateCode("telegram", "42"));
    await first.close();
    // Back to version 2, as an older gatehouse left the tables.
    const connection = await mysql.createConnection(MARIADB_URL);
    try {
      for (const table of ["approvals", "approval_claims", "conversations"])
        await connection.query(`DROP TABLE \`${prefix}${table}\``);
      await connection.query(`DELETE FROM \`${prefix}schema_migrations\` WHERE version = 3`);
    } finally {
      await connection.end();
    }
    const second = await openMariaDbStores(url, { secret });
    try {
      expect(await second.pairing.isPaired("42", "telegram")).toBe(true);
      const { created } = await second.approvals!.create({
        id: "r1",
        requester: "u",
        tool: "t",
        arguments: {},
        risk: "low",
        agent: "a",
        session: "s",
        context: null,
        ttlMs: 60_000,
      });
      expect(created).toBe(true);
      const record = {
        owner: { userId: "u", channelType: "telegram" },
        messages: [{ role: "user" as const, content: "hi" }],
      };
      await second.conversations!.put("s", record, 60_000);
      expect(await second.conversations!.get("s")).toEqual(record);
    } finally {
      await second.close();
    }
  });

  it("refuses a conversation session id longer than its key column, naming the field, and stores nothing", async () => {
    const stores = await openMariaDbStores(nextUrl(), { secret: randomBytes(32) });
    try {
      const long = "s".repeat(513);
      const record = { owner: { userId: "u", channelType: "telegram" }, messages: [] };
      await expect(stores.conversations!.put(long, record, 60_000)).rejects.toThrow(
        /sessionId must be at most 512 characters/,
      );
      expect(await stores.conversations!.get(long)).toBeNull();
      await stores.conversations!.put("s".repeat(512), record, 60_000);
      expect(await stores.conversations!.get("s".repeat(512))).toEqual(record);
    } finally {
      await stores.close();
    }
  });
});
