import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, describe, expect, it } from "vitest";
import { httpAgent } from "../src/agents/http.js";
import { runAgent } from "../src/core/agent-runner.js";
import { connectWithToken, startGateway, USER_TOKEN, type TestGateway } from "./gateway-helpers.js";

const ajv = new Ajv2020({ strict: false });
const requestSchema = ajv.compile(JSON.parse(readFileSync("schemas/http-agent-request.schema.json", "utf8")));
const answerSchema = ajv.compile(JSON.parse(readFileSync("schemas/http-agent-response.schema.json", "utf8")));

let server: Server | undefined;
let child: ChildProcess | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  child?.kill();
  await gw?.stop();
  server = child = gw = undefined;
});

/** A service that records the request and answers with the given content type and body pieces. */
async function serve(type: string, pieces: string[], seen: unknown[] = []): Promise<string> {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", async () => {
      seen.push(JSON.parse(raw));
      res.writeHead(200, { "content-type": type });
      for (const piece of pieces) {
        res.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/agent`;
}

const turn = { sessionId: "telegram:1:1", principal: { userId: "1", role: "user" }, channelType: "telegram" };

describe("HTTP agent contract", () => {
  it("the request it sends matches the published request schema, with history when configured", async () => {
    const seen: unknown[] = [];
    const url = await serve("application/json", [JSON.stringify({ text: "ok" })], seen);
    const agent = httpAgent(url, { history: true });
    const history = [
      { role: "user" as const, content: "earlier" },
      { role: "assistant" as const, content: "answer" },
    ];
    const context = {
      ...turn,
      signal: new AbortController().signal,
      requestApproval: () => Promise.reject(new Error("not here")),
    };
    await agent({ text: "now", ...turn, history }, context);
    expect(requestSchema(seen[0])).toBe(true);
    expect(seen[0]).toMatchObject({ text: "now", history });
    expect(requestSchema({ text: 1 })).toBe(false);
  });

  it("streams an NDJSON answer piece by piece, split across reads anywhere", async () => {
    const lines = ['{"delta":"Hel', 'lo, "}\n{"delta":"wörld"}\n', '{"done":true}\n'];
    for (const line of lines.join("").split("\n").filter(Boolean)) expect(answerSchema(JSON.parse(line))).toBe(true);
    const url = await serve("application/x-ndjson", lines);
    const deltas: string[] = [];
    const text = await runAgent(
      { agent: httpAgent(url) },
      { text: "hi", ...turn, signal: new AbortController().signal, onDelta: (d: string) => deltas.push(d) },
    );
    expect(text).toBe("Hello, wörld");
    expect(deltas).toEqual(["Hello, ", "wörld"]);
  });

  it("streams a server-sent events answer until [DONE]", async () => {
    const url = await serve("text/event-stream", [
      'data: {"delta":"one "}\n\n',
      'data: {"delta":"two"}\n',
      "\n",
      "data: [DONE]\n\n",
      'data: {"delta":"ignored"}\n\n',
    ]);
    const text = await runAgent(
      { agent: httpAgent(url) },
      { text: "hi", ...turn, signal: new AbortController().signal },
    );
    expect(text).toBe("one two");
  });

  it("an error object in the stream fails the turn, logging its code but not its message", async () => {
    const url = await serve("application/x-ndjson", [
      '{"delta":"par"}\n',
      '{"error":{"message":"secret detail","code":"tool_failed"}}\n',
    ]);
    const failure = await runAgent(
      { agent: httpAgent(url) },
      { text: "hi", ...turn, signal: new AbortController().signal },
    ).catch((e: Error) => e);
    expect(String(failure)).toMatch(/tool_failed/);
    expect(String(failure)).not.toMatch(/secret detail/);
  });
});

/** Starts an example service on a free port and returns its URL (it prints it on its first line). */
async function startExample(command: string, args: string[]): Promise<string> {
  child = spawn(command, args, { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = /listening on (\S+)/.exec(line);
    if (match) return match[1]!;
  }
  throw new Error(`${command} exited before listening`);
}

describe.each([
  ["Python (standard library)", "python3", ["examples/http-agent-python/agent.py"]],
  ["Node.js", process.execPath, ["examples/http-agent-node/agent.mjs"]],
])("the %s example agent behind the gateway", (_name, command, args) => {
  it("streams its answer to a WebSocket client and sees the conversation's history", async () => {
    const url = await startExample(command, args);
    gw = await startGateway({ agent: { type: "http", url, history: true } });
    const { socket } = await connectWithToken(gw.wsUrl, USER_TOKEN);
    const first = await socket.request(1, "chat.send", { text: "hello" });
    expect(first.payload.text.trim()).toBe("(0 earlier messages) you said: hello");
    const second = await socket.request(2, "chat.send", { text: "again" });
    expect(second.payload.text.trim()).toBe("(1 earlier messages) you said: again");
    socket.close();
  });
});
