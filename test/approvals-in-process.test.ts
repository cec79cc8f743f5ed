/** A TypeScript agent asks through `context.requestApproval`, the same path as the HTTP API; owners decide over HTTP. */
import { afterEach, describe, expect, it } from "vitest";
import type { Agent } from "../src/core/context.js";
import { connectWithToken, OWNER_TOKEN, startGateway, type TestGateway } from "./gateway-helpers.js";

const agent: Agent = async (message, context) => {
  const decision = await context.requestApproval({
    tool: "send_email",
    arguments: { to: message.text },
    risk: "high",
    timeoutMs: 20_000,
  });
  return decision.approved ? `sent (${decision.approver})` : `not sent: ${decision.reason}`;
};

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe("requestApproval in the agent's context", () => {
  it("waits for the owner's decision and returns it; the owner sees the request live", async () => {
    gw = await startGateway({ agent });
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    socket.send({ type: "req", id: 1, method: "chat.send", params: { text: "bob@example.com" } });
    const requested = await socket.next((f) => f.type === "event" && f.event === "approval.requested");
    const listed = await gw.api("GET", "/api/approvals", { token: OWNER_TOKEN });
    expect(listed.body.approvals).toMatchObject([
      { id: requested.payload.id, tool: "send_email", arguments: { to: "bob@example.com" }, risk: "high" },
    ]);
    await gw.api("POST", `/api/approvals/${requested.payload.id}/approve`, { token: OWNER_TOKEN, body: {} });
    const res = await socket.next((f) => f.type === "res" && f.id === 1, 10_000);
    expect(res.payload.text).toBe("sent (alice)");
    socket.close();
  });

  it("a denial and a bad ask are answered, never approved", async () => {
    const strict: Agent = async (message, context) => {
      if (message.text === "bad") {
        try {
          await context.requestApproval({ tool: "", risk: "high" });
          return "no error";
        } catch (error) {
          return String((error as Error).message);
        }
      }
      return (await context.requestApproval({ tool: "rm", risk: "critical" })).reason;
    };
    gw = await startGateway({ agent: strict, approvals: { rules: [{ decision: "deny", risk: ["critical"] }] } });
    const { socket } = await connectWithToken(gw.wsUrl, OWNER_TOKEN);
    expect((await socket.request(1, "chat.send", { text: "go" })).payload.text).toBe("denied by policy rule 1");
    expect((await socket.request(2, "chat.send", { text: "bad" })).payload.text).toContain("tool_name");
    socket.close();
  });
});
