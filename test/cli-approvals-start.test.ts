/** `gatehouse start` with an `approvals:` section: the API works on the configured store and the rules decide at once. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse, startGatehouse } from "./cli-helpers.js";

const ws = cliWorkspace();
afterAll(() => ws.cleanup());

describe("gatehouse start with approvals", () => {
  it("answers an agent's requests from the configured store with the configured rules and timeout bound", async () => {
    const config = join(ws.dataDir, "gatehouse.yaml");
    writeFileSync(
      config,
      "approvals:\n  maxTimeoutSeconds: 600\n  rules:\n    - { decision: deny, risk: [critical] }\n",
    );
    const minted = await runGatehouse(["token", "create", "--role", "agent", "--json", "--config", config, ...ws.args]);
    expect(minted.code, minted.stderr).toBe(0);
    const token = (JSON.parse(minted.stdout) as { token: string }).token;
    const gateway = await startGatehouse(["--config", config, ...ws.args, "--port", "0"]);
    try {
      const post = (body: Record<string, unknown>) =>
        fetch(`${gateway.url}/api/approvals`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({
            tool_name: "shell",
            arguments: {},
            agent_name: null,
            session_id: null,
            context: {},
            ...body,
          }),
        });
      const critical = await post({ request_id: "c-1", risk_level: "critical" });
      expect(await critical.json()).toEqual({ approved: false, reason: "denied by policy rule 1", approver: "policy" });
      const pending = await post({ request_id: "p-1", risk_level: "low" });
      expect([pending.status, await pending.json()]).toEqual([202, { status: "pending" }]);
      const tooLong = await post({ request_id: "t-1", risk_level: "low", timeout_seconds: 601 });
      expect((await tooLong.json()).error).toMatchObject({ field: "timeout_seconds" });
    } finally {
      await gateway.stop();
    }
    const list = await runGatehouse(["approvals", "list", "--json", "--config", config, ...ws.args]);
    expect(JSON.parse(list.stdout).approvals.map((a: { id: string }) => a.id)).toEqual(["p-1"]);
  }, 60_000);
});
