/** The approval API over real HTTP: PraisonAI's shapes, long polling, validation, ownership, policy and expiry. */
import { afterEach, describe, expect, it } from "vitest";
import {
  fixedTokenAuth,
  OWNER_TOKEN,
  STORE_KINDS,
  startGateway,
  USER_TOKEN,
  type TestGateway,
} from "./gateway-helpers.js";
import { requestApproval } from "./support/webhook-approval-client.js";

const AGENT_TOKEN = "agent-token-0123456789abcdef";
const OTHER_AGENT_TOKEN = "agent2-token-0123456789abcdef";
const auth = fixedTokenAuth({
  [OWNER_TOKEN]: { userId: "alice", role: "owner" },
  [USER_TOKEN]: { userId: "bob", role: "user" },
  [AGENT_TOKEN]: { userId: "agent-1", role: "agent" },
  [OTHER_AGENT_TOKEN]: { userId: "agent-2", role: "agent" },
});

const body = (id: string, extra: Record<string, unknown> = {}) => ({
  request_id: id,
  tool_name: "execute_command",
  arguments: { command: "ls -la" },
  risk_level: "high",
  agent_name: "assistant",
  session_id: null,
  context: {},
  ...extra,
});

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe("approval API", () => {
  it("answers a new request with exactly {status: pending}, then the owner's decision in PraisonAI's shape", async () => {
    gw = await startGateway({ auth });
    const posted = await gw.api("POST", "/api/approvals", { token: AGENT_TOKEN, body: body("r-1") });
    expect(posted).toEqual({ status: 202, body: { status: "pending" } });
    expect(await gw.api("GET", "/api/approvals/r-1", { token: AGENT_TOKEN })).toEqual({
      status: 200,
      body: { status: "pending" },
    });
    const listed = await gw.api("GET", "/api/approvals", { token: OWNER_TOKEN });
    expect(listed.body.approvals).toMatchObject([
      {
        id: "r-1",
        tool: "execute_command",
        arguments: { command: "ls -la" },
        risk: "high",
        agent: "assistant",
        requester: "agent-1",
      },
    ]);
    const approve = await gw.api("POST", "/api/approvals/r-1/approve", {
      token: OWNER_TOKEN,
      body: { reason: "looks fine" },
    });
    expect(approve.body).toMatchObject({ decided: true, approval: { status: "approved", approver: "alice" } });
    expect(await gw.api("GET", "/api/approvals/r-1", { token: AGENT_TOKEN })).toEqual({
      status: 200,
      body: { approved: true, reason: "looks fine", approver: "alice" },
    });
    const late = await gw.api("POST", "/api/approvals/r-1/deny", { token: OWNER_TOKEN, body: {} });
    expect(late.body).toMatchObject({ decided: false, approval: { status: "approved", approver: "alice" } });
  });

  it("works with a client that polls exactly like PraisonAI's WebhookApproval", async () => {
    gw = await startGateway({ auth });
    const target = gw;
    const decision = await requestApproval(
      {
        tool_name: "write_file",
        arguments: { path: "/etc/hosts" },
        risk_level: "critical",
        agent_name: "a",
        session_id: "s",
        context: { n: 1 },
      },
      {
        webhookUrl: `${gw.url}/api/approvals`,
        headers: { Authorization: `Bearer ${AGENT_TOKEN}` },
        pollIntervalMs: 50,
        timeoutMs: 10_000,
        onPosted: async (id) => {
          setTimeout(
            () =>
              void target.api("POST", `/api/approvals/${id}/deny`, {
                token: OWNER_TOKEN,
                body: { reason: "not today" },
              }),
            150,
          );
        },
      },
    );
    expect(decision).toMatchObject({ approved: false, reason: "not today", approver: "alice" });
    expect(decision.polls).toBeGreaterThan(1);
  });

  it("long-polls with ?wait= until the decision, and a retry of the same request_id changes nothing", async () => {
    gw = await startGateway({ auth });
    await gw.api("POST", "/api/approvals", { token: AGENT_TOKEN, body: body("r-wait") });
    const again = await gw.api("POST", "/api/approvals", {
      token: AGENT_TOKEN,
      body: body("r-wait", { tool_name: "other" }),
    });
    expect(again).toEqual({ status: 202, body: { status: "pending" } });
    const started = Date.now();
    const waiting = gw.api("GET", "/api/approvals/r-wait?wait=20", { token: AGENT_TOKEN });
    setTimeout(() => void gw!.api("POST", "/api/approvals/r-wait/approve", { token: OWNER_TOKEN, body: {} }), 200);
    expect((await waiting).body).toEqual({ approved: true, reason: "approved by alice", approver: "alice" });
    expect(Date.now() - started).toBeLessThan(5_000);
    const quick = await gw.api("GET", "/api/approvals/r-wait?wait=0", { token: AGENT_TOKEN });
    expect(quick.body.approved).toBe(true);
  });

  it("refuses bad input clearly, naming the field, and creates nothing", async () => {
    gw = await startGateway({ auth });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...body("x"), tool_name: undefined }, "tool_name"],
      [{ ...body("x"), tool_name: "" }, "tool_name"],
      [{ ...body("x"), risk_level: "extreme" }, "risk_level"],
      [{ ...body("x"), request_id: "has space" }, "request_id"],
      [{ ...body("x"), request_id: 7 }, "request_id"],
      [{ ...body("x"), timeout_seconds: -1 }, "timeout_seconds"],
      [{ ...body("x"), timeout_seconds: 7200 }, "timeout_seconds"],
    ];
    for (const [input, field] of cases) {
      const response = await gw.api("POST", "/api/approvals", { token: AGENT_TOKEN, body: input });
      expect(response.status, field).toBe(400);
      expect(response.body.error).toMatchObject({ code: "invalid_request", field });
      expect(response.body.error.message).toContain(field);
    }
    expect((await gw.api("GET", "/api/approvals/x?wait=abc", { token: AGENT_TOKEN })).body.error.field).toBe("wait");
    expect((await gw.api("GET", "/api/approvals", { token: OWNER_TOKEN })).body.approvals).toEqual([]);
    expect((await gw.api("GET", "/api/approvals/x", { token: AGENT_TOKEN })).status).toBe(404);
  });

  it("another agent neither reads a request nor takes over its id; a user token may not ask at all", async () => {
    gw = await startGateway({ auth });
    await gw.api("POST", "/api/approvals", { token: AGENT_TOKEN, body: body("mine") });
    const read = await gw.api("GET", "/api/approvals/mine", { token: OTHER_AGENT_TOKEN });
    expect(read.status).toBe(404);
    const taken = await gw.api("POST", "/api/approvals", { token: OTHER_AGENT_TOKEN, body: body("mine") });
    expect(taken.body.error).toMatchObject({ code: "invalid_request", field: "request_id" });
    expect((await gw.api("POST", "/api/approvals", { token: USER_TOKEN, body: body("u") })).status).toBe(403);
    expect((await gw.api("GET", "/api/approvals/mine", { token: OWNER_TOKEN })).body).toEqual({ status: "pending" });
  });

  it("policy rules decide at once (deny wins) and the decision is in the audit log", async () => {
    gw = await startGateway({
      auth,
      approvals: {
        rules: [
          { decision: "approve", tools: ["read_*"] },
          { decision: "deny", risk: ["critical"] },
        ],
      },
    });
    const allowed = await gw.api("POST", "/api/approvals", {
      token: AGENT_TOKEN,
      body: body("p-1", { tool_name: "read_file", risk_level: "low" }),
    });
    expect(allowed).toEqual({
      status: 200,
      body: { approved: true, reason: "approved by policy rule 1", approver: "policy" },
    });
    const denied = await gw.api("POST", "/api/approvals", {
      token: AGENT_TOKEN,
      body: body("p-2", { tool_name: "read_file", risk_level: "critical" }),
    });
    expect(denied.body).toEqual({ approved: false, reason: "denied by policy rule 2", approver: "policy" });
    const pending = await gw.api("POST", "/api/approvals", {
      token: AGENT_TOKEN,
      body: body("p-3", { tool_name: "write_file", risk_level: "low" }),
    });
    expect(pending.body).toEqual({ status: "pending" });
    const decisions = await decisionsIn(gw);
    expect(decisions).toEqual(
      expect.arrayContaining([
        { type: "approval-approved", channelId: "p-1", actor: "policy" },
        { type: "approval-denied", channelId: "p-2", actor: "policy" },
      ]),
    );
  });

  it("an expired request reads as denied with a reason, and its expiry is recorded", async () => {
    // A real SQLite file, as the default store is, in a temp folder (the default would be ./.gatehouse in the repository).
    gw = await startGateway({ auth, storeKind: STORE_KINDS[1] });
    await gw.api("POST", "/api/approvals", { token: AGENT_TOKEN, body: body("short", { timeout_seconds: 0.3 }) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const read = await gw.api("GET", "/api/approvals/short", { token: AGENT_TOKEN });
    expect(read.body).toEqual({ approved: false, reason: "expired: nobody decided in time", approver: "system" });
    const approve = await gw.api("POST", "/api/approvals/short/approve", { token: OWNER_TOKEN, body: {} });
    expect(approve.body).toMatchObject({ decided: false, approval: { status: "expired" } });
  });
});

async function decisionsIn(gw: TestGateway): Promise<Array<{ type: string; channelId: string; actor: string }>> {
  const page = await gw.api("GET", "/api/audit", { token: OWNER_TOKEN });
  return page.body.events
    .filter((e: { type: string }) => e.type.startsWith("approval-"))
    .map(({ type, channelId, actor }: { type: string; channelId: string; actor: string }) => ({
      type,
      channelId,
      actor,
    }));
}
