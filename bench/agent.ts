import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import WebSocket from "ws";
import { LocalModelServer } from "../test/openai-server.js";
import type { BenchArgs } from "./lib/args.js";
import { quantile, round } from "./lib/measure.js";
import { atMost, log, printTable, type TargetCheck } from "./lib/report.js";

/**
 * What the gateway adds to a streamed model answer. The local model server streams a fixed answer at a fixed token
 * rate (first token after FIRST_TOKEN_MS, then one every TOKEN_MS). The same requests are made (a) by the official
 * `openai` client talking to the server directly and (b) by a WebSocket client through the gateway (the built dist/,
 * openai agent, memory store, conversation memory on). Per request we time the first delta and the last; the row
 * reports medians, the time to first delta the gateway adds, its overhead per streamed chunk, and ratios to direct.
 */
export interface AgentBenchResult {
  tokens: number;
  firstTokenMs: number;
  tokenIntervalMs: number;
  requests: number;
  direct: { firstDeltaMs: number; completeMs: number };
  gateway: { firstDeltaMs: number; completeMs: number; deltaFramesPerAnswer: number };
  addedFirstDeltaMs: number;
  overheadPerChunkUs: number;
  firstDeltaRatio: number;
  completeRatio: number;
  targets: TargetCheck[];
}

const FIRST_TOKEN_MS = 50;
const TOKEN_MS = 5;
const ANSWER = Array.from({ length: 100 }, (_, i) => `word${i}`).join(" ");
const TOKENS = ANSWER.split(" ").length;
const TOKEN = "bench-agent-token-0123456789abcdef";

interface Timing {
  firstDeltaMs: number;
  completeMs: number;
  frames: number;
}

function median(values: number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

async function directRequest(client: OpenAI, text: string): Promise<Timing> {
  const started = performance.now();
  let first = 0;
  let frames = 0;
  const stream = await client.chat.completions.create({
    model: "bench",
    messages: [{ role: "user", content: text }],
    stream: true,
  });
  for await (const chunk of stream) {
    if (!chunk.choices[0]?.delta?.content) continue;
    if (frames++ === 0) first = performance.now() - started;
  }
  return { firstDeltaMs: first, completeMs: performance.now() - started, frames };
}

function gatewayRequest(socket: WebSocket, id: number, text: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first = 0;
    let frames = 0;
    const onMessage = (data: WebSocket.RawData): void => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        event?: string;
        id?: unknown;
        ok?: boolean;
        payload?: { id?: unknown };
      };
      if (frame.type === "event" && frame.event === "chat.delta" && frame.payload?.id === id) {
        if (frames++ === 0) first = performance.now() - started;
      } else if (frame.type === "res" && frame.id === id) {
        socket.off("message", onMessage);
        if (!frame.ok) reject(new Error(`chat.send failed: ${data.toString()}`));
        else resolve({ firstDeltaMs: first, completeMs: performance.now() - started, frames });
      }
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ type: "req", id, method: "chat.send", params: { text } }));
  });
}

async function connect(wsUrl: string): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("message", (data) =>
      (JSON.parse(data.toString()) as { type: string }).type === "hello"
        ? resolve()
        : reject(new Error(data.toString())),
    );
    socket.send(JSON.stringify({ type: "connect", params: { token: TOKEN } }));
  });
  return socket;
}

export async function runAgentBench(args: Pick<BenchArgs, "quick">): Promise<AgentBenchResult> {
  const built = new URL("../dist/index.js", import.meta.url);
  if (!existsSync(fileURLToPath(built)))
    throw new Error("bench: dist/ is missing; run `npm run build` first (npm run bench does)");
  const { createGateway } = (await import(built.href)) as typeof import("../src/index.js");
  const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const requests = args.quick ? 10 : 40;
  log(
    `\nagent: ${requests} streamed answers of ${TOKENS} tokens (first after ${FIRST_TOKEN_MS} ms, then every ${TOKEN_MS} ms), direct and through the gateway`,
  );

  const model = new LocalModelServer({
    apiKey: "none",
    firstTokenDelayMs: FIRST_TOKEN_MS,
    tokenIntervalMs: TOKEN_MS,
    reply: () => ANSWER,
  });
  const baseUrl = await model.listen();
  const gateway = createGateway({
    store: "memory:",
    secret: Buffer.alloc(32, 7),
    logger: silentLogger,
    http: { host: "127.0.0.1", port: 0 },
    auth: {
      check: (request) =>
        request.connectParams?.token === TOKEN
          ? { success: true, userId: "bench", role: "user", metadata: {} }
          : { success: false, metadata: {} },
    },
    agent: { type: "openai", baseUrl, model: "bench", maxTokens: 256 },
    // Each request starts a fresh conversation (/new between them would add a round trip): keep none.
    conversation: { maxTurns: 1 },
    websocket: { rateLimit: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
  });
  await gateway.start();
  const client = new OpenAI({ baseURL: baseUrl, apiKey: "none", maxRetries: 0 });
  const socket = await connect(`${gateway.url.replace(/^http/, "ws")}/ws`);
  const direct: Timing[] = [];
  const through: Timing[] = [];
  try {
    // Warm-up, then alternate the two paths so a noisy moment weighs on both.
    await directRequest(client, "warm");
    await gatewayRequest(socket, 0, "warm");
    for (let i = 1; i <= requests; i++) {
      direct.push(await directRequest(client, `q${i}`));
      through.push(await gatewayRequest(socket, i, `q${i}`));
    }
  } finally {
    socket.close();
    await gateway.stop();
    await model.close();
  }
  const d = {
    firstDeltaMs: round(median(direct.map((t) => t.firstDeltaMs)), 2),
    completeMs: round(median(direct.map((t) => t.completeMs)), 2),
  };
  const g = {
    firstDeltaMs: round(median(through.map((t) => t.firstDeltaMs)), 2),
    completeMs: round(median(through.map((t) => t.completeMs)), 2),
    deltaFramesPerAnswer: round(median(through.map((t) => t.frames)), 1),
  };
  const addedFirstDeltaMs = round(g.firstDeltaMs - d.firstDeltaMs, 2);
  const overheadPerChunkUs = round(((g.completeMs - d.completeMs) * 1000) / TOKENS, 1);
  const result: AgentBenchResult = {
    tokens: TOKENS,
    firstTokenMs: FIRST_TOKEN_MS,
    tokenIntervalMs: TOKEN_MS,
    requests,
    direct: d,
    gateway: g,
    addedFirstDeltaMs,
    overheadPerChunkUs,
    firstDeltaRatio: round(g.firstDeltaMs / d.firstDeltaMs, 3),
    completeRatio: round(g.completeMs / d.completeMs, 3),
    targets: [],
  };
  printTable(
    "agent (medians)",
    ["path", "first delta ms", "complete ms", "frames"],
    [
      ["direct openai client", d.firstDeltaMs, d.completeMs, TOKENS],
      ["through gateway (ws)", g.firstDeltaMs, g.completeMs, g.deltaFramesPerAnswer],
    ],
  );
  log(
    `agent: gateway adds ${addedFirstDeltaMs} ms to the first delta (x${result.firstDeltaRatio}) and ${overheadPerChunkUs} µs per streamed chunk (complete x${result.completeRatio})`,
  );
  result.targets = [
    atMost(
      "agent: time to first delta added by the gateway",
      addedFirstDeltaMs,
      20,
      "ms",
      "median, local model server",
    ),
  ];
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { parseArgs } = await import("./lib/args.js");
  process.stdout.write(`${JSON.stringify(await runAgentBench(parseArgs(process.argv.slice(2))), null, 2)}\n`);
  process.exit(0);
}
