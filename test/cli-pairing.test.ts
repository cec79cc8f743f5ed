import { describe, expect, it } from "vitest";
import { useSharedCliWorkspace } from "./cli-helpers.js";

// One SQLite store shared by this process (playing the gateway and the senders) and the CLI child processes.
const workspace = useSharedCliWorkspace();
const gatehouse = workspace.gatehouse;
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe("gatehouse pairing (child processes on a shared SQLite store)", () => {
  it("lists, approves, refuses a reused code, denies, shows paired, revokes", async () => {
    const annCode = await workspace.stores().pairing.generateCode("telegram", "111", { userName: "Ann" });
    const bobCode = await workspace.stores().pairing.generateCode("telegram", "222", { userName: "Bob" });
    await workspace.stores().pairing.generateCode("discord", "333");

    const [all, telegramOnly, table] = await Promise.all([
      gatehouse("pairing", "list", "--json"),
      gatehouse("pairing", "list", "telegram", "--json"),
      gatehouse("pairing", "list"),
    ]);
    expect(all.code, all.stderr).toBe(0);
    const pending = json(all.stdout).pending as { code: string; channelId: string; channelType: string }[];
    expect(pending.map((p) => `${p.channelType}:${p.channelId}`).sort()).toEqual([
      "discord:333",
      "telegram:111",
      "telegram:222",
    ]);
    expect((json(telegramOnly.stdout).pending as unknown[]).length).toBe(2);
    expect(table.stdout).toContain(annCode);
    expect(table.stdout).toMatch(/CODE\s+CHANNEL\s+SENDER/);

    const approved = await gatehouse(
      "pairing",
      "approve",
      "telegram",
      annCode.toLowerCase(),
      "--label",
      "Ann S",
      "--json",
    );
    expect(approved).toMatchObject({ code: 0 });
    expect(json(approved.stdout)).toEqual({ approved: true });
    expect(await workspace.stores().pairing.isPaired("111", "telegram")).toBe(true);

    const reused = await gatehouse("pairing", "approve", "telegram", annCode);
    expect(reused.code, reused.stderr).toBe(1);
    expect(reused.stderr).toContain("not approved");

    const denied = await gatehouse("pairing", "deny", "telegram", bobCode);
    expect(denied.code, denied.stderr).toBe(0);
    expect(await workspace.stores().pairing.isPaired("222", "telegram")).toBe(false);
    expect(await workspace.stores().pairing.pendingFor("222", "telegram")).toBeNull();

    const [deniedAgain, paired] = await Promise.all([
      gatehouse("pairing", "deny", "telegram", bobCode),
      gatehouse("pairing", "paired", "--json"),
    ]);
    expect(deniedAgain.code, deniedAgain.stderr).toBe(1);
    expect(json(paired.stdout).paired).toEqual([
      expect.objectContaining({ channelType: "telegram", channelId: "111", label: "Ann S" }),
    ]);
    expect((json(paired.stdout).paired as { approvedBy: string }[])[0]?.approvedBy).toMatch(/^cli:/);

    const revoked = await gatehouse("pairing", "revoke", "telegram", "111", "--json");
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(json(revoked.stdout)).toEqual({ revoked: true });
    expect(await workspace.stores().pairing.isPaired("111", "telegram")).toBe(false);
    expect((await gatehouse("pairing", "revoke", "telegram", "111")).code).toBe(1);
  });

  it("creates an invite whose code the running store can redeem (same gateway secret), then shows the audit log", async () => {
    const invite = await gatehouse("pairing", "invite", "slack", "--json");
    expect(invite.code, invite.stderr).toBe(0);
    const { code, expiresAt } = json(invite.stdout) as { code: string; expiresAt: number };
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(expiresAt).toBeGreaterThan(Date.now());
    const listed = json((await gatehouse("pairing", "list", "slack", "--json")).stdout).pending as { code: string }[];
    expect(listed).toEqual([expect.objectContaining({ code: "****-****", kind: "invite" })]);
    expect(await workspace.stores().pairing.approve("slack", code, "U999")).toBe(true);
    expect(await workspace.stores().pairing.isPaired("U999", "slack")).toBe(true);

    const audit = await gatehouse("audit", "--json", "--limit", "1000");
    expect(audit.code, audit.stderr).toBe(0);
    const types = (json(audit.stdout).events as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["requested", "approved", "denied", "revoked", "invite-created"]));
    expect(audit.stdout).not.toContain(code);
  });

  it("shows a bound session and refuses an unknown one", async () => {
    await workspace.stores().sessions.bind("sess-cli-test-0001", { userId: "alice", role: "user" });
    const [shown, missing] = await Promise.all([
      gatehouse("sessions", "show", "sess-cli-test-0001", "--json"),
      gatehouse("sessions", "show", "sess-nope"),
    ]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(json(shown.stdout)).toEqual({ principal: { userId: "alice", role: "user" } });
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toContain("no session");
  });

  it("refuses malformed arguments with exit 2 and a message naming what is wrong, changing nothing", async () => {
    const before = await workspace.stores().pairing.audit({ limit: 1000 });
    const [badCode, badType, missingArg] = await Promise.all([
      gatehouse("pairing", "approve", "telegram", "ABCD;EFGH"),
      gatehouse("pairing", "deny", "Tele gram", "ABCD-EFGH"),
      gatehouse("pairing", "revoke", "telegram"),
    ]);
    expect(badCode.code, badCode.stderr).toBe(2);
    expect(badCode.stderr).toContain("code must be 4-64 letters and digits");
    expect(badType.code, badType.stderr).toBe(2);
    expect(badType.stderr).toContain("channelType must be");
    expect(missingArg.code, missingArg.stderr).toBe(2);
    expect(missingArg.stderr).toContain("missing required argument 'channelId'");
    expect((await workspace.stores().pairing.audit({ limit: 1000 })).events).toHaveLength(before.events.length);
  });
});
