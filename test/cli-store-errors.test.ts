/**
 * A store that cannot be used says why, through the CLI, without secrets: PostgreSQL's own answer for a missing user
 * name (the README's URL on a machine without $USER), an unknown role, a missing database, and a refused connection;
 * MariaDB's refused login (a real user, a wrong password), missing database and refused connection the same way;
 * Redis's refused connection and refused login (a real ACL user, a wrong password).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGatehouse } from "./cli-helpers.js";
import { mariadbAvailable } from "./mariadb-helpers.js";
import { postgresAvailable } from "./postgres-helpers.js";

const postgres = await postgresAvailable();
const dataDir = mkdtempSync(join(tmpdir(), "gh-store-errors-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `pairing list` on this store URL, as a user without $USER/$PGUSER (a container, a systemd unit). */
const listWith = (store: string) =>
  runGatehouse(["pairing", "list", "--store", store, "--data-dir", dataDir], {
    env: { USER: undefined, LOGNAME: undefined, PGUSER: undefined },
  });

describe.runIf(postgres)("store errors say the real cause", () => {
  it.each([
    ["postgres://127.0.0.1:5432/test", "postgres store cannot be used: no user name given: add one to the URL"],
    [
      "postgres://nobody_gh_test:s3cret-pw@127.0.0.1:5432/test",
      'postgres store cannot be used: role "nobody_gh_test" does not exist',
    ],
    [
      "postgres://postgres@127.0.0.1:5432/gh_no_such_db",
      'postgres store cannot be used: database "gh_no_such_db" does not exist',
    ],
    [
      "postgres://postgres@127.0.0.1:1/test",
      "postgres store is temporarily unavailable: cannot connect to 127.0.0.1:1 (connection refused)",
    ],
  ])("%s", async (store, message) => {
    const result = await listWith(store);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("s3cret-pw");
  });
});

const mariadb = await mariadbAvailable();

describe.runIf(mariadb)("MariaDB store errors say the real cause", () => {
  const user = `gh_doc_${randomBytes(4).toString("hex")}`;
  const admin = () =>
    mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test", connectTimeout: 5000 });
  beforeAll(async () => {
    const connection = await admin();
    await connection.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-pw-1'`);
    await connection.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'right-pw-1'`);
    await connection.end();
  });
  afterAll(async () => {
    const connection = await admin();
    await connection.query(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
    await connection.end();
  });

  it.each([
    [
      () => `mysql://${user}:s3cret-pw@127.0.0.1:3306/test`,
      () => `mariadb store cannot be used: access denied for user "${user}": check the user and password in the URL`,
    ],
    [
      () => "mysql://root@127.0.0.1:3306/gh_no_such_db",
      () =>
        'mariadb store cannot be used: database "gh_no_such_db" does not exist: create it or fix the database name in the URL',
    ],
    [
      () => "mysql://root:s3cret-pw@127.0.0.1:1/test",
      () => "mariadb store is temporarily unavailable: cannot connect to 127.0.0.1:1 (connection refused)",
    ],
  ])("case %#", async (store, message) => {
    const result = await listWith(store());
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(message());
    expect(result.stderr).not.toContain("s3cret-pw");
  });
});

describe("Redis store errors say the real cause", () => {
  it("a closed port is named with the socket's reason, and the URL's password is never printed", async () => {
    const result = await listWith("redis://:s3cret-pw@127.0.0.1:1");
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      "redis store is temporarily unavailable: cannot connect to 127.0.0.1:1 (connection refused)",
    );
    expect(result.stderr).not.toContain("s3cret-pw");
  });

  it("a wrong password for a real ACL user is 'authentication failed', without the password", async () => {
    const user = `gh_doc_${randomBytes(4).toString("hex")}`;
    const admin = createClient({ url: "redis://127.0.0.1:6379", socket: { connectTimeout: 5000 } });
    await admin.connect();
    try {
      await admin.sendCommand(["ACL", "SETUSER", user, "on", ">right-pw-1", `~${user}:*`, "+@all"]);
      const result = await listWith(`redis://${user}:s3cret-pw@127.0.0.1:6379`);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(
        "redis store cannot be used: authentication failed: check the user and password in the URL",
      );
      expect(result.stderr).not.toContain("s3cret-pw");
    } finally {
      await admin.sendCommand(["ACL", "DELUSER", user]);
      await admin.quit();
    }
  });
});
