/**
 * A store that cannot be used says why, through the CLI, without secrets: PostgreSQL's own answer for a missing user
 * name (the README's URL on a machine without $USER), an unknown role, a missing database, and a refused connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGatehouse } from "./cli-helpers.js";
import { postgresAvailable } from "./postgres-helpers.js";

const postgres = await postgresAvailable();
const dataDir = mkdtempSync(join(tmpdir(), "gh-store-errors-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `pairing list` on this store URL, as a user without $USER/$PGUSER (a container, a systemd unit). */
const listWith = (store: string) =>
  runGatehouse(["pairing", "list", "--store", store, "--data-dir", dataDir], { env: { USER: undefined, LOGNAME: undefined, PGUSER: undefined } });

describe.runIf(postgres)("store errors say the real cause", () => {
  it.each([
    ["postgres://127.0.0.1:5432/test", "postgres store cannot be used: no user name given: add one to the URL"],
    ["postgres://nobody_gh_test:s3cret-pw@127.0.0.1:5432/test", 'postgres store cannot be used: role "nobody_gh_test" does not exist'],
    ["postgres://postgres@127.0.0.1:5432/gh_no_such_db", 'postgres store cannot be used: database "gh_no_such_db" does not exist'],
    ["postgres://postgres@127.0.0.1:1/test", "postgres store is temporarily unavailable: cannot connect to 127.0.0.1:1 (connection refused)"],
  ])("%s", async (store, message) => {
    const result = await listWith(store);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("s3cret-pw");
  });
});
