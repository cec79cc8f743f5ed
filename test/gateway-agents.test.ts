import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { echoAgent, httpAgent } from "../src/agents/index.js";
import { runAgent } from "../src/core/agent-runner.js";
import type { Agent } from "../src/core/context.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: (body: unknown, req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => handler(raw ? JSON.parse(raw) : null, req, res));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/agent`;
}

const principal = { userId: "bob", role: "user" };

function turn(agent: Agent, text: string, signal = new AbortController().signal) {
  const deltas: string[] = [];
  return {
    deltas,
    result: runAgent(
      { agent },
      { text, sessionId: "s1", principal, channelType: "webchat", signal, onDelta: (d) => deltas.push(d) },
    ),
  };
}

describe("echoAgent", () => {
  it("streams the text back in several chunks", async () => {
    const { deltas, result } = turn(echoAgent, "one two three");
    expect(await result).toBe("echo: one two three");
    expect(deltas).toEqual(["echo: ", "one ", "two ", "three"]);
  });
});

describe("httpAgent", () => {
  it("POSTs the message as JSON and relays a JSON answer", async () => {
    const seen: unknown[] = [];
    const url = await serve((body, req, res) => {
      seen.push({ body, method: req.method, type: req.headers["content-type"], auth: req.headers.authorization });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ text: "42" }));
    });
    const { result } = turn(httpAgent(url, { headers: { authorization: "Bearer agent-key" } }), "meaning of life?");
    expect(await result).toBe("42");
    expect(seen).toEqual([
      {
        body: { text: "meaning of life?", sessionId: "s1", channelType: "webchat", principal },
        method: "POST",
        type: "application/json",
        auth: "Bearer agent-key",
      },
    ]);
  });

  it("relays a streamed plain-text answer chunk by chunk", async () => {
    const url = await serve((_body, _req, res) => {
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.write("Hello, ");
      setTimeout(() => res.end("wörld"), 20);
    });
    const { deltas, result } = turn(httpAgent(url), "hi");
    expect(await result).toBe("Hello, wörld");
    expect(deltas.join("")).toBe("Hello, wörld");
  });

  it("an error status or a JSON answer without text is an error", async () => {
    const url = await serve((body, _req, res) => {
      const text = (body as { text: string }).text;
      res.setHeader("content-type", "application/json");
      if (text === "500") {
        res.statusCode = 500;
        res.end("{}");
      } else res.end(JSON.stringify({ nope: true }));
    });
    await expect(turn(httpAgent(url), "500").result).rejects.toThrow(/HTTP 500/);
    await expect(turn(httpAgent(url), "other").result).rejects.toThrow(/text/);
  });

  it("gives up after its timeout and when the client goes away", async () => {
    const url = await serve(() => {
      /* never answers */
    });
    await expect(turn(httpAgent(url, { timeoutMs: 100 }), "slow").result).rejects.toThrow();
    const controller = new AbortController();
    const pending = turn(httpAgent(url), "slow", controller.signal).result;
    controller.abort();
    await expect(pending).rejects.toThrow();
  });

  it("refuses a URL that is not http(s)", () => {
    expect(() => httpAgent("ftp://example.com")).toThrow(/http/);
    expect(() => httpAgent("not a url")).toThrow(/valid URL/);
  });
});
