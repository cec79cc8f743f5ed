/** `gatehouse approvals list|approve|deny` as a child process on a real SQLite store. */
import { describe, expect, it } from "vitest";
import { useSharedCliWorkspace } from "./cli-helpers.js";

const { stores, gatehouse } = useSharedCliWorkspace();

const ask = (id: string, tool = "execute_command") =>
  stores().approvals!.create({
    id,
    requester: "token:agent",
    tool,
    arguments: { command: "ls\nrm" },
    risk: "high",
    agent: "bot",
    session: "s",
    context: {},
    ttlMs: 60_000,
  });

describe("gatehouse approvals", () => {
  it("lists pending requests, approves one and refuses a second decision", async () => {
    await ask("cli-1");
    await ask("cli-2", "write_file");
    const list = await gatehouse("approvals", "list");
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("cli-1");
    expect(list.stdout).toContain("write_file");
    expect(list.stdout).not.toContain("ls\nrm");
    const approve = await gatehouse("approvals", "approve", "cli-1", "--reason", "ok from cli");
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain("Approved cli-1.");
    const record = await stores().approvals!.get("cli-1");
    expect(record).toMatchObject({ status: "approved", reason: "ok from cli" });
    expect(record?.approver).toMatch(/^cli:/);
    const again = await gatehouse("approvals", "deny", "cli-1");
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already approved");
    const json = await gatehouse("approvals", "list", "--json");
    expect(JSON.parse(json.stdout).approvals.map((a: { id: string }) => a.id)).toEqual(["cli-2"]);
    const unknown = await gatehouse("approvals", "deny", "nope");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("no approval request");
  }, 60_000);
});
