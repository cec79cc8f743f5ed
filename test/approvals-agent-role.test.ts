/**
 * A token made with `gatehouse token create --role agent` may create approval requests and read its own, and nothing
 * else: every admin route and every WebSocket method refuses it. Real CLI, real SQLite store, real HTTP and sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { WS_METHODS } from "../src/gateway/ws-methods.js";
import { loadGatewaySecret } from "../src/pairing/secret.js";
import { cliWorkspace, runGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { captureLogger, connectWithToken } from "./gateway-helpers.js";

let ws: CliWorkspace;
let gateway: Gateway;
let agentToken: string;
let ownerToken: string;

async function mint(role: string): Promise<string> {
  const run = await runGatehouse(["token", "create", "--role", role, "--json", ...ws.args]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { token: string }).token;
}

async function call(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  ws = cliWorkspace();
  agentToken = await mint("agent");
  ownerToken = await mint("owner");
  gateway = createGateway({
    store: ws.store,
    dataDir: ws.dataDir,
    secret: loadGatewaySecret(ws.dataDir, {}),
    logger: captureLogger(),
    http: { port: 0 },
  });
  await gateway.start();
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  ws?.cleanup();
});

const request = {
  request_id: "agent-req-1",
  tool_name: "execute_command",
  arguments: { command: "ls" },
  risk_level: "medium",
  agent_name: "a",
  session_id: "s",
  context: {},
};

describe("role agent", () => {
  it("creates an approval request and reads its own status", async () => {
    expect(await call("POST", "/api/approvals", agentToken, request)).toEqual({
      status: 202,
      body: { status: "pending" },
    });
    expect(await call("GET", "/api/approvals/agent-req-1", agentToken)).toEqual({
      status: 200,
      body: { status: "pending" },
    });
  });

  it("is refused by every other admin route, before anything is read or changed", async () => {
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/approvals"],
      ["POST", "/api/approvals/agent-req-1/approve", {}],
      ["POST", "/api/approvals/agent-req-1/deny", {}],
      ["GET", "/api/pairing/pending"],
      ["POST", "/api/pairing/approve", { channelType: "telegram", code: "ABCD-EFGH" }],
      ["POST", "/api/pairing/deny", { channelType: "telegram", code: "ABCD-EFGH" }],
      ["GET", "/api/pairing/paired"],
      ["DELETE", "/api/pairing/paired/telegram/42"],
      ["POST", "/api/pairing/invites", { channelType: "telegram" }],
      ["GET", "/api/sessions/some-session"],
      ["GET", "/api/audit"],
    ];
    for (const [method, path, body] of routes) {
      const response = await call(method, path, agentToken, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
    }
    const login = await fetch(`${gateway.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: gateway.url },
      body: JSON.stringify({ token: agentToken }),
    });
    expect(login.status).toBeGreaterThanOrEqual(400);
    expect((await call("GET", "/api/approvals/agent-req-1", ownerToken)).body).toEqual({ status: "pending" });
  });

  it("is refused by every WebSocket method but approvals.create and approvals.get, and hears its own decision", async () => {
    const { socket, hello } = await connectWithToken(gateway.url.replace(/^http/, "ws") + "/ws", agentToken);
    expect(hello.principal.role).toBe("agent");
    let id = 0;
    for (const method of WS_METHODS.filter((m) => m !== "approvals.create" && m !== "approvals.get")) {
      const res = await socket.request(++id, method, method === "chat.send" ? { text: "hi" } : {});
      expect(res.ok, method).toBe(false);
      expect(res.error.code, method).toBe("forbidden");
    }
    const created = await socket.request(++id, "approvals.create", { ...request, request_id: "agent-ws-1" });
    expect(created).toMatchObject({ ok: true, payload: { status: "pending" } });
    expect((await socket.request(++id, "approvals.get", { requestId: "agent-ws-1" })).payload).toEqual({
      status: "pending",
    });
    expect((await socket.request(++id, "approvals.get", { requestId: "agent-req-1", wait: 0 })).payload).toEqual({
      status: "pending",
    });
    await call("POST", "/api/approvals/agent-ws-1/approve", ownerToken, { reason: "fine" });
    const event = await socket.next((f) => f.type === "event" && f.event === "approval.decided");
    expect(event.payload).toMatchObject({ id: "agent-ws-1", status: "approved" });
    expect((await socket.request(++id, "approvals.get", { requestId: "agent-ws-1" })).payload).toMatchObject({
      approved: true,
      reason: "fine",
    });
    socket.close();
  });
});
