/**
 * A data directory that cannot be created or written: every command answers with one line naming the path and the
 * reason, exit code 2, instead of retrying (Node's recursive mkdir spins forever at full CPU on /proc/nope).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runGatehouse } from "./cli-helpers.js";
import { TinyTmpfs } from "./support/tmpfs.js";

const scratch = mkdtempSync(join(tmpdir(), "gh-datadir-"));
const aFile = join(scratch, "a-file");
writeFileSync(aFile, "not a folder");
const locked = join(scratch, "locked");
const roFs = TinyTmpfs.mountOrSkip("1m", "the read-only data directory test");
roFs?.readOnly();
afterAll(() => {
  roFs?.unmount();
  chmodSync(scratch, 0o700);
  rmSync(scratch, { recursive: true, force: true });
});

/** Every command that touches the data directory, with the arguments it needs. */
const COMMANDS: Array<[string, string[]]> = [
  ["start", ["start", "--port", "0"]],
  ["doctor", ["doctor"]],
  ["pairing list", ["pairing", "list"]],
  ["pairing paired", ["pairing", "paired"]],
  ["pairing invite", ["pairing", "invite", "telegram"]],
  ["pairing approve", ["pairing", "approve", "telegram", "ABCD-EFGH"]],
  ["pairing deny", ["pairing", "deny", "telegram", "ABCD-EFGH"]],
  ["pairing revoke", ["pairing", "revoke", "telegram", "42"]],
  ["audit", ["audit"]],
  ["token create", ["token", "create", "--role", "admin"]],
  ["token list", ["token", "list"]],
  ["token revoke", ["token", "revoke", "some-id"]],
  ["sessions show", ["sessions", "show", "some-session"]],
];
const SOME = COMMANDS.filter(([name]) => ["start", "doctor", "pairing list", "token create"].includes(name));

// A hang would be cut off by this deadline (and fail); the real answer takes well under a second (see the report).
const DEADLINE_MS = 15_000;

describe("an unusable data directory: one clear error, exit 2, for every command", () => {
  it.each(COMMANDS)("%s on /proc/nope (a special file system)", async (_name, command) => {
    const result = await runGatehouse([...command, "--data-dir", "/proc/nope"], { timeoutMs: DEADLINE_MS });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout + result.stderr).toContain(
      "data directory /proc/nope cannot be used: folders cannot be created there",
    );
  });

  it.each(SOME)("%s below a file", async (_name, command) => {
    const result = await runGatehouse([...command, "--data-dir", join(aFile, "data")], { timeoutMs: DEADLINE_MS });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout + result.stderr).toContain(
      `data directory ${join(aFile, "data")} cannot be used: a file is in the way where a folder should be`,
    );
  });

  (roFs ? it : it.skip)("a missing parent on a read-only file system", async () => {
    const dir = join(roFs!.dir, "missing", "data");
    for (const [, command] of SOME) {
      const result = await runGatehouse([...command, "--data-dir", dir], { timeoutMs: DEADLINE_MS });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout + result.stderr).toContain(
        `data directory ${dir} cannot be used: it is on a read-only file system`,
      );
    }
  });

  it("a folder this user may not write (run as nobody)", async () => {
    const nobody = { uid: 65534, gid: 65534 };
    if (process.getuid?.() !== 0)
      return void expect(process.env.CI, "CI runs as root to test other users").not.toBe("true");
    chmodSync(scratch, 0o755); // nobody may look inside root's folder, but not create `locked` in it
    for (const [, command] of SOME) {
      const result = await runGatehouse([...command, "--data-dir", locked], { ...nobody, timeoutMs: DEADLINE_MS });
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stdout + result.stderr).toContain(`data directory ${locked} cannot be used: permission denied`);
    }
  });
});
