/**
 * The CLI refuses what cannot work, through the real binary on a shared SQLite store: unknown channel types and roles
 * (exit 2, nothing created), `gatehouse help` exits 0, and `pairing approve CODE` finds the channel type itself when the
 * code is pending on exactly one.
 */
import { describe, expect, it } from "vitest";
import { useSharedCliWorkspace } from "./cli-helpers.js";

const workspace = useSharedCliWorkspace();
const gatehouse = workspace.gatehouse;

describe("gatehouse refuses what cannot work", () => {
  it("an unknown channel type is a usage error on every pairing command, and creates nothing", async () => {
    const before = (await workspace.stores().pairing.audit({ limit: 1000 })).events.length;
    for (const args of [
      ["pairing", "invite", "bogus"],
      ["pairing", "list", "bogus"],
      ["pairing", "approve", "bogus", "ABCD-EFGH"],
      ["pairing", "deny", "bogus", "ABCD-EFGH"],
      ["pairing", "revoke", "bogus", "42"],
    ]) {
      const result = await gatehouse(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain('unknown channel type "bogus": use one of telegram, discord, slack');
    }
    expect((await workspace.stores().pairing.audit({ limit: 1000 })).events).toHaveLength(before);
    expect(await workspace.stores().pairing.listPending()).toEqual([]);
  });

  it("a custom channel type already in the store is accepted", async () => {
    const code = await workspace.stores().pairing.generateCode("matrix", "@ann:example.org");
    const approved = await gatehouse("pairing", "approve", "matrix", code);
    expect(approved.code, approved.stderr).toBe(0);
    expect(await workspace.stores().pairing.isPaired("@ann:example.org", "matrix")).toBe(true);
  });

  it("a role nothing gives meaning to is refused, and no token is made", async () => {
    const result = await gatehouse("token", "create", "--role", "superuser");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--role must be one of owner, admin, user, agent (got "superuser")');
    expect(await workspace.stores().tokens!.count()).toBe(0);
    expect((await gatehouse("token", "create", "--role", "user", "--json")).code).toBe(0);
  });

  it("gatehouse help and help <command> exit 0; a bare command group still exits 2", async () => {
    const [help, helpPairing, bare] = await Promise.all([
      gatehouse("help"),
      gatehouse("help", "pairing"),
      gatehouse("pairing"),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Commands:");
    expect(helpPairing.code).toBe(0);
    expect(helpPairing.stdout).toContain("approve a pending request");
    expect(bare.code).toBe(2);
  });

  it("pairing approve CODE without a channel type approves the one request with that code", async () => {
    const code = await workspace.stores().pairing.generateCode("discord", "777");
    const approved = await gatehouse("pairing", "approve", code.toLowerCase(), "--json");
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toEqual({ approved: true });
    expect(await workspace.stores().pairing.isPaired("777", "discord")).toBe(true);
    // An unknown code, or an invite (kept only as a hash), needs the channel type: refused, nothing changed.
    const invite = await workspace.stores().pairing.generateCode("telegram");
    const unknown = await gatehouse("pairing", "approve", invite, "--user-id", "888");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("an invite needs its channel type");
    expect(await workspace.stores().pairing.isPaired("888", "telegram")).toBe(false);
    expect((await gatehouse("pairing", "approve", "telegram", invite, "--user-id", "888")).code).toBe(0);
  });
});
