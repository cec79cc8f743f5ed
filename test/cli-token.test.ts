import { describe, expect, it } from "vitest";
import { tokenAuth } from "../src/auth/index.js";
import { hashToken } from "../src/auth/token.js";
import { useSharedCliWorkspace } from "./cli-helpers.js";

// One SQLite store shared by this process (playing the gateway and the senders) and the CLI child processes.
const workspace = useSharedCliWorkspace();
const gatehouse = workspace.gatehouse;
const request = (token: string) => ({
  transport: "http" as const,
  method: "GET",
  url: "/",
  headers: { authorization: `Bearer ${token}` },
  remoteAddress: "10.0.0.1",
  query: {},
});

describe("gatehouse token (child processes)", () => {
  it("creates a token once, lists it without the secret, and revokes it; the store only ever holds the hash", async () => {
    const created = await gatehouse("token", "create", "--role", "admin", "--label", "ci bot", "--json");
    expect(created.code, created.stderr).toBe(0);
    const { id, token, role } = JSON.parse(created.stdout) as { id: string; token: string; role: string };
    expect(role).toBe("admin");
    expect(token).toMatch(/^gh_[A-Za-z0-9_-]{43}$/);

    // Minted in another process, admitted here through the same store.
    const tokens = workspace.stores().tokens;
    if (!tokens) throw new Error("sqlite store has no token table");
    expect(await tokenAuth(tokens).check(request(token))).toMatchObject({ success: true, role: "admin" });
    expect(JSON.stringify(await tokens.list())).not.toContain(token);
    expect((await tokens.findByHash(hashToken(token)))?.id).toBe(id);

    const [listed, table] = await Promise.all([gatehouse("token", "list", "--json"), gatehouse("token", "list")]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).tokens).toEqual([expect.objectContaining({ id, role: "admin", label: "ci bot" })]);
    expect(listed.stdout + table.stdout).not.toContain(token);
    expect(listed.stdout).not.toContain("hash");
    expect(table.stdout).toContain(id);

    const revoked = await gatehouse("token", "revoke", id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await tokenAuth(tokens).check(request(token))).success).toBe(false);
    const again = await gatehouse("token", "revoke", id);
    expect(again.code).toBe(1);
  });

  it("prints a human-readable token once without --json", async () => {
    const created = await gatehouse("token", "create", "--role", "owner");
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^gh_[A-Za-z0-9_-]{43}$/m);
    expect(created.stdout).toContain("only time it is shown");
  });

  it("refuses a missing or malformed role with exit 2, creating nothing", async () => {
    const before = await workspace.stores().tokens?.count();
    const [missing, bad] = await Promise.all([
      gatehouse("token", "create"),
      gatehouse("token", "create", "--role", "Super User"),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--role <role>' not specified");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--role must be");
    expect(await workspace.stores().tokens?.count()).toBe(before);
  });
});
