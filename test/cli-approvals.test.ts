/** `gatehouse approvals list|approve|deny` as a child process on a real SQLite store. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stores } from "../src/stores/types.js";
import { cliWorkspace, runGatehouse, type CliWorkspace } from "./cli-helpers.js";

let ws: CliWorkspace;
let stores: Stores;

const ask = (id: string, tool = "execute_command") =>
  stores.approvals!.create({
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

beforeAll(async () => {
  ws = cliWorkspace();
  stores = await ws.open();
});

afterAll(async () => {
  await stores?.close();
  ws?.cleanup();
});

describe("gatehouse approvals", () => {
  it("lists pending requests, approves one and refuses a second decision", async () => {
    await ask("cli-1");
    await ask("cli-2", "write_file");
    const list = await runGatehouse(["approvals", "list", ...ws.args]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain("cli-1");
    expect(list.stdout).toContain("write_file");
    expect(list.stdout).not.toContain("ls\nrm");
    const approve = await runGatehouse(["approvals", "approve", "cli-1", "--reason", "ok from cli", ...ws.args]);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain("Approved cli-1.");
    const record = await stores.approvals!.get("cli-1");
    expect(record).toMatchObject({ status: "approved", reason: "ok from cli" });
    expect(record?.approver).toMatch(/^cli:/);
    const again = await runGatehouse(["approvals", "deny", "cli-1", ...ws.args]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already approved");
    const json = await runGatehouse(["approvals", "list", "--json", ...ws.args]);
    expect(JSON.parse(json.stdout).approvals.map((a: { id: string }) => a.id)).toEqual(["cli-2"]);
    const unknown = await runGatehouse(["approvals", "deny", "nope", ...ws.args]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("no approval request");
  }, 60_000);
});
