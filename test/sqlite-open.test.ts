import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import { openSqliteStores, SCHEMA_VERSION, SqliteConnection } from "../src/stores/sqlite/index.js";
import { GATEHOUSE_APPLICATION_ID, MIGRATIONS } from "../src/stores/sqlite/schema.js";

const root = mkdtempSync(join(tmpdir(), "gh-sqlite-open-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `case-${++n}`);
const secret = randomBytes(32);

function pragmas(file: string): { version: number; appId: number; journal: string } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      version: db.pragma("user_version", { simple: true }) as number,
      appId: db.pragma("application_id", { simple: true }) as number,
      journal: db.pragma("journal_mode", { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

describe("sqlite store: opening", () => {
  it("creates missing parent folders, applies every migration and switches to WAL", async () => {
    const file = join(freshDir(), "nested", "deeper", "gatehouse.db");
    const stores = await openStores(`sqlite:${file}`, { secret });
    expect(stores.backend).toBe("sqlite");
    await stores.close();
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(pragmas(file)).toEqual({ version: SCHEMA_VERSION, appId: GATEHOUSE_APPLICATION_ID, journal: "wal" });
  });

  it("creates the database readable by its owner only, write-ahead log included", async () => {
    const file = join(freshDir(), "private", "gatehouse.db");
    const stores = await openStores(`sqlite:${file}`, { secret });
    await stores.pairing.generateCode("telegram", "alice");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    await stores.close();
  });

  it("resolves a relative path against the working directory", async () => {
    const dir = freshDir();
    const cwd = process.cwd();
    try {
      mkdirSync(dir, { recursive: true });
      process.chdir(dir);
      const stores = await openStores("sqlite:./data/rel.db", { secret });
      await stores.close();
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(join(dir, "data", "rel.db"))).toBe(true);
  });

  it("reopening an up-to-date file changes nothing in its schema", async () => {
    const file = join(freshDir(), "g.db");
    await (await openSqliteStores(file, { secret })).close();
    const schemaOf = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all();
      } finally {
        db.close();
      }
    };
    const before = schemaOf();
    await (await openSqliteStores(file, { secret })).close();
    expect(schemaOf()).toEqual(before);
    expect(pragmas(file).version).toBe(SCHEMA_VERSION);
  });

  it("reopening a cleanly closed file commits once, so reads find the page count in the write-ahead log", async () => {
    const file = join(freshDir(), "g.db");
    await (await openSqliteStores(file, { secret })).close();
    // A clean close checkpoints and removes the log; SQLite would then fstat() the file on every read until a commit.
    expect(existsSync(`${file}-wal`)).toBe(false);
    const stores = await openSqliteStores(file, { secret });
    try {
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
      expect(await stores.pairing.isPaired("alice", "telegram")).toBe(false);
    } finally {
      await stores.close();
    }
    expect(pragmas(file).version).toBe(SCHEMA_VERSION);
  });

  it("applies a new migration to an existing file in order, keeping the data", async () => {
    const file = join(freshDir(), "g.db");
    const stores = await openSqliteStores(file, { secret });
    const code = await stores.pairing.generateCode("telegram", "alice");
    await stores.close();
    const next = { version: SCHEMA_VERSION + 1, description: "test", sql: "CREATE TABLE extra (x INTEGER NOT NULL);" };
    const connection = SqliteConnection.open(file, { migrations: [...MIGRATIONS, next] }).acquire();
    const tables = connection.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    connection.release();
    expect(tables).toContain("extra");
    expect(pragmas(file).version).toBe(SCHEMA_VERSION + 1);
    // This code does not know that version: it refuses the file with a clear error and leaves it alone.
    const bytes = readFileSync(file);
    await expect(openSqliteStores(file, { secret })).rejects.toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this gatehouse understands \\(${SCHEMA_VERSION}\\)`),
    );
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  });

  it("refuses a migration list with a gap", () => {
    const file = join(freshDir(), "g.db");
    const broken = [MIGRATIONS[0]!, { version: 3, description: "gap", sql: "SELECT 1;" }];
    expect(() => SqliteConnection.open(file, { migrations: broken })).toThrow(/numbered 1, 2, 3/);
  });

  it("refuses a corrupt file (garbage bytes) at open and leaves its bytes unchanged", async () => {
    const file = join(freshDir(), "g.db");
    mkdirSync(join(file, ".."), { recursive: true });
    const garbage = randomBytes(64 * 1024);
    writeFileSync(file, garbage);
    await expect(openSqliteStores(file, { secret })).rejects.toThrow(/corrupt or unreadable.*left unchanged/);
    await expect(openStores(`sqlite:${file}`, { secret })).rejects.toThrow(/corrupt or unreadable/);
    expect(readFileSync(file).equals(garbage)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("refuses a file whose header is intact but whose pages are damaged, and leaves it unchanged", async () => {
    const file = join(freshDir(), "g.db");
    const stores = await openSqliteStores(file, { secret });
    for (let i = 0; i < 15; i++)
      await stores.pairing.generateCode("telegram", `user-${i}`, { firstMessage: "x".repeat(2000) });
    await stores.close();
    const bytes = readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    expect(bytes.length).toBeGreaterThan(pageSize * 4);
    // Overwrite everything after the first page (the schema page stays readable) with garbage.
    randomBytes(bytes.length - pageSize).copy(bytes, pageSize);
    writeFileSync(file, bytes);
    await expect(openSqliteStores(file, { secret })).rejects.toThrow(/sqlite store .* (corrupt|integrity)/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it("refuses an SQLite file that another program owns, without touching it", async () => {
    const file = join(freshDir(), "other.db");
    mkdirSync(join(file, ".."), { recursive: true });
    const other = new Database(file);
    other.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x');",
    );
    other.close();
    const bytes = readFileSync(file);
    await expect(openSqliteStores(file, { secret })).rejects.toThrow(/tables that gatehouse did not create/);
    expect(readFileSync(file).equals(bytes)).toBe(true);

    const marked = join(freshDir(), "marked.db");
    mkdirSync(join(marked, ".."), { recursive: true });
    const foreign = new Database(marked);
    foreign.pragma("application_id = 1234");
    foreign.close();
    await expect(openSqliteStores(marked, { secret })).rejects.toThrow(
      /not a gatehouse database \(application_id 1234\)/,
    );
  });

  it("refuses a path that cannot be a database file", async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    expect(statSync(dir).isDirectory()).toBe(true);
    await expect(openSqliteStores(dir, { secret })).rejects.toThrow(
      /sqlite store .* cannot be opened|corrupt or unreadable/,
    );
    await expect(openStores("sqlite:", { secret })).rejects.toThrow(/needs a file path/);
    await expect(openStores("sqlite::memory:", { secret })).rejects.toThrow(/use "memory:"/);
  });

  it("refuses bad options with an error naming them, creating nothing", async () => {
    const dir = freshDir();
    const file = join(dir, "g.db");
    await expect(openSqliteStores(file, { maxPendingPerChannelType: -1 })).rejects.toThrow(/maxPendingPerChannelType/);
    await expect(openSqliteStores(file, { timeoutMs: Number.NaN })).rejects.toThrow(/timeoutMs/);
    expect(existsSync(dir)).toBe(false);
  });

  it("takes the secret from dataDir (or beside the database) when none is given, so codes survive a restart", async () => {
    const saved = process.env.GATEHOUSE_SECRET;
    delete process.env.GATEHOUSE_SECRET;
    try {
      const dir = freshDir();
      const file = join(dir, "g.db");
      const first = await openSqliteStores(file, {});
      const invite = await first.pairing.generateCode("telegram");
      await first.close();
      expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
      const second = await openSqliteStores(file, {});
      expect(await second.pairing.approve("telegram", invite, "bob")).toBe(true);
      await second.close();

      const dataDir = join(freshDir(), "data");
      const third = await openSqliteStores(join(freshDir(), "g.db"), { dataDir });
      await third.close();
      expect(existsSync(join(dataDir, "secret"))).toBe(true);
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_SECRET = saved;
    }
  });
});
