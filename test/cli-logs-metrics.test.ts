/**
 * `gatehouse start` as a user runs it: its log lines (pino) under --log-format/--log-level, with a request id per HTTP
 * request and no token, pairing code or cookie of the run in them; and /metrics over TCP and the local owner socket.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse, startGatehouse } from "./cli-helpers.js";
import { connectKeyDevice, makeKeyDevice } from "./support/key-device.js";
import { linesOf, sample } from "./support/prometheus-text.js";

const ws = cliWorkspace();
const config = join(ws.dataDir, "gatehouse.yaml");
writeFileSync(config, "auth:\n  localSocket: true\n");
const socketPath = join(ws.dataDir, "gatehouse.sock");
afterAll(() => ws.cleanup());

/** GET over TCP or the Unix socket: status and body text. */
function get(
  to: { url: string } | { socketPath: string },
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const onAnswer = (res: IncomingMessage) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    };
    const req =
      "socketPath" in to
        ? httpRequest({ socketPath: to.socketPath, path, headers: { host: "localhost", ...headers } }, onAnswer)
        : httpRequest(`${to.url}${path}`, { headers }, onAnswer);
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

function jsonLines(logs: string): Record<string, any>[] {
  return logs
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
    });
}

describe("gatehouse start: logs and /metrics", () => {
  it("--log-format json: JSON lines with a request id per request, no secret of the run in them; /metrics for the owner only", async () => {
    const gateway = await startGatehouse([...ws.args, "--config", config, "--port", "0", "--log-format", "json"]);
    const cookie = "gh_console=cookie-value-0123456789abcdef";
    const wrongBearer = "gh_not-a-real-token-0123456789abcdef";
    let code = "";
    let failure: unknown;
    try {
      const token = gateway.token as string;
      expect(token).toMatch(/^gh_/);
      // Without a credential (and with a cookie and a bearer that are no credential): 401, and neither is logged.
      expect((await get(gateway, "/metrics")).status).toBe(401);
      expect((await get(gateway, "/metrics", { cookie, authorization: `Bearer ${wrongBearer}` })).status).toBe(401);
      // The local owner socket may read it.
      const local = await get({ socketPath }, "/metrics");
      expect(local.status).toBe(200);
      expect(local.text).toContain("# TYPE gatehouse_admission_decisions_total counter");

      // A webchat stranger asks, the owner approves with the CLI (another process), a message reaches the echo agent.
      // A new data directory requires device keys: the stranger proves its key first.
      const { socket: device, first } = await connectKeyDevice(
        `${gateway.url.replace(/^http/, "ws")}/ws`,
        makeKeyDevice(),
        { name: "Stranger" },
      );
      expect(first.type).toBe("pairing");
      code = first.code as string;
      const approve = await runGatehouse(["pairing", "approve", "webchat", code, ...ws.args, "--config", config]);
      expect(approve.code, approve.stderr).toBe(0);
      await device.nextOfType("hello", 15_000);
      expect(await device.request("c1", "chat.send", { text: "hello metrics" })).toMatchObject({
        ok: true,
        payload: { text: "echo: hello metrics" },
      });

      const scraped = await get(gateway, "/metrics", { authorization: `Bearer ${token}` });
      expect(scraped.status).toBe(200);
      const text = scraped.text;
      expect(
        sample(text, "gatehouse_admission_decisions_total", { channel: "webchat", decision: "pending", reason: "new" }),
      ).toBe(1);
      expect(sample(text, "gatehouse_pairing_events_total", { channel: "webchat", event: "requested" })).toBe(1);
      // Approved by the CLI in another process: seen through the store's audit events.
      expect(sample(text, "gatehouse_pairing_events_total", { channel: "webchat", event: "approved" })).toBe(1);
      expect(
        sample(text, "gatehouse_store_call_duration_seconds_count", {
          backend: "sqlite",
          method: "pairing.generateCode",
        }),
      ).toBe(1);
      expect(sample(text, "gatehouse_agent_turn_duration_seconds_count", { channel: "webchat", outcome: "ok" })).toBe(
        1,
      );
      expect(sample(text, "gatehouse_websocket_connections")).toBe(1);
      console.info(
        [
          ...linesOf(text, "gatehouse_admission"),
          ...linesOf(text, "gatehouse_pairing"),
          ...linesOf(text, 'gatehouse_store_call_duration_seconds_count{backend="sqlite",method="pairing'),
          ...linesOf(text, "gatehouse_agent_turn_duration_seconds_sum"),
          ...linesOf(text, "gatehouse_agent_turn_duration_seconds_count"),
          ...linesOf(text, "gatehouse_websocket"),
          ...linesOf(text, "gatehouse_channel_up"),
        ].join("\n"),
      );
      device.close();
    } catch (error) {
      failure = error;
    }
    const exit = await gateway.stop();
    if (failure) throw failure;
    expect(exit, gateway.output()).toBe(0);

    const logs = gateway.logs();
    const lines = jsonLines(logs);
    expect(lines.find((line) => line.message === "gateway started")).toMatchObject({ level: "info" });
    const incoming = lines.filter((line) => line.message === "incoming request");
    expect(incoming.length).toBeGreaterThanOrEqual(4);
    for (const line of incoming) expect(line.requestId, JSON.stringify(line)).toMatch(/^[0-9a-f-]{36}$/);
    // Each request's lines share its id, and ids differ between requests.
    const ids = new Set(incoming.map((line) => line.requestId));
    expect(ids.size).toBe(incoming.length);
    for (const id of ids)
      expect(lines.some((line) => line.message === "request completed" && line.requestId === id)).toBe(true);
    expect(incoming.some((line) => line.req?.url === "/metrics")).toBe(true);
    for (const secret of [gateway.token as string, code, cookie, "cookie-value-0123456789abcdef", wrongBearer]) {
      expect(secret.length).toBeGreaterThan(6);
      expect(logs).not.toContain(secret);
    }
  }, 90_000);

  it("--log-level warn hides info lines; --log-format pretty writes readable lines", async () => {
    const quiet = await startGatehouse([...ws.args, "--port", "0", "--log-level", "warn"]);
    expect((await get(quiet, "/healthz")).status).toBe(200);
    expect(await quiet.stop()).toBe(0);
    const quietLines = jsonLines(quiet.logs());
    expect(quietLines.filter((line) => line.level === "info")).toEqual([]);
    expect(quiet.logs()).not.toContain("gateway started");
    expect(quiet.logs()).not.toContain("incoming request");

    const pretty = await startGatehouse([...ws.args, "--port", "0", "--log-format", "pretty"]);
    expect((await get(pretty, "/healthz")).status).toBe(200);
    expect(await pretty.stop()).toBe(0);
    const started = pretty
      .logs()
      .split("\n")
      .find((line) => line.includes("gateway started"));
    expect(started).toMatch(/INFO/);
    expect(started?.trimStart().startsWith("{")).toBe(false);
    expect(pretty.logs()).toMatch(/incoming request.*"requestId":"[0-9a-f-]{36}"|requestId.*incoming request/);
  }, 90_000);

  it("refuses a log level or format it does not know (exit 2, naming the flag and the choices)", async () => {
    const [level, format] = await Promise.all([
      runGatehouse(["start", "--log-level", "loud", ...ws.args]),
      runGatehouse(["start", "--log-format", "xml", ...ws.args]),
    ]);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("--log-level");
    expect(level.stderr).toContain("warn");
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--log-format");
    expect(format.stderr).toContain("pretty");
  }, 60_000);
});
