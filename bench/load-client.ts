import { performance } from "node:perf_hooks";
import { WebSocket, type RawData } from "ws";
import { cpuMicros, LatencyRecorder, round } from "./lib/measure.js";

/**
 * The load generator, in a process of its own so it never shares an event loop with the server it measures:
 * `tsx bench/load-client.ts '<plan JSON>'`. Opens `clients` WebSockets; each sends one message, waits for its answer,
 * sends the next (closed loop). Counts answers that arrive inside the measuring window after a warm-up and prints one
 * JSON line with messages/s and round-trip percentiles.
 *
 * - mode "gatehouse": connect as a paired webchat device ({type:"connect",params:{deviceId}}), wait for hello, then
 *   `chat.send` requests; the answer is the `res` frame with the request's id (the echo agent's chat.delta events
 *   arrive first and are part of the round trip).
 * - mode "bare": any text message; the answer is the echoed message.
 */
export interface LoadPlan {
  url: string;
  /** Several servers (a fleet): client i connects to urls[i % urls.length] instead of url. */
  urls?: string[];
  mode: "gatehouse" | "bare";
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** gatehouse mode: one paired webchat device id per client. */
  devices?: string[];
  text?: string;
}

export interface LoadResult {
  mode: LoadPlan["mode"];
  clients: number;
  messages: number;
  messagesPerSec: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  /** Every answered message of the run, warm-up included (to divide the server's CPU time by). */
  answeredTotal: number;
  /** The load generator's own CPU share (1 = a full core): near 1 means it, not the server, may be the limit. */
  clientCpuShare: number;
}

const RES_PREFIX = '{"type":"res"';

class Client {
  private pending: ((ok: boolean) => void) | undefined;
  private nextId = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly mode: LoadPlan["mode"],
  ) {
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("close", () => this.settle(false));
  }

  static async open(plan: LoadPlan, index: number): Promise<Client> {
    const base = (plan.urls?.[index % plan.urls.length] ?? plan.url).replace(/^http/, "ws");
    const ws = new WebSocket(plan.mode === "gatehouse" ? `${base}/ws` : base, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const client = new Client(ws, plan.mode);
    if (plan.mode === "gatehouse") await client.hello(plan.devices?.[index]);
    return client;
  }

  /** The webchat connect handshake; a device that is not paired gets a pairing code instead of hello, which is an error here. */
  private async hello(deviceId: string | undefined): Promise<void> {
    if (!deviceId) throw new Error("load-client: gatehouse mode needs one device id per client");
    const frame = await new Promise<{ type?: string; error?: { message?: string } }>((resolve) => {
      this.ws.once("message", (data) => resolve(JSON.parse(data.toString()) as { type?: string }));
      this.ws.send(JSON.stringify({ type: "connect", params: { deviceId } }));
    });
    if (frame.type !== "hello")
      throw new Error(`load-client: expected hello, got ${frame.type ?? "?"} ${frame.error?.message ?? ""}`);
  }

  /** One message and its answer; resolves to false when the server answered with an error. */
  roundTrip(text: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.pending = resolve;
      if (this.mode === "bare") this.ws.send(text);
      else
        this.ws.send(
          `{"type":"req","id":${++this.nextId},"method":"chat.send","params":{"text":${JSON.stringify(text)}}}`,
        );
    });
  }

  close(): void {
    this.ws.close();
  }

  private onMessage(data: RawData, _isBinary: boolean): void {
    if (this.mode === "bare") return this.settle(true);
    const text = data.toString();
    if (!text.startsWith(RES_PREFIX)) return;
    const frame = JSON.parse(text) as { id?: number; ok?: boolean };
    if (frame.id === this.nextId) this.settle(frame.ok === true);
  }

  private settle(ok: boolean): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(ok);
  }
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const clients = await Promise.all(Array.from({ length: plan.clients }, (_, index) => Client.open(plan, index)));
  const text = plan.text ?? "hello";
  const recorder = new LatencyRecorder(10_000_000);
  let errors = 0;
  let answeredTotal = 0;
  const began = performance.now();
  const measureFrom = began + plan.warmupMs;
  const stopAt = measureFrom + plan.durationMs;
  let cpu: NodeJS.CpuUsage | undefined;
  const timer = setTimeout(() => {
    cpu = process.cpuUsage();
  }, plan.warmupMs);
  await Promise.all(
    clients.map(async (client) => {
      for (;;) {
        const sent = performance.now();
        if (sent >= stopAt) return;
        const ok = await client.roundTrip(text);
        const answered = performance.now();
        if (ok) answeredTotal++;
        if (!ok) errors++;
        else if (sent >= measureFrom && answered <= stopAt) recorder.record(answered - sent);
      }
    }),
  );
  clearTimeout(timer);
  const cpuUsed = cpu ? cpuMicros(cpu) : 0;
  for (const client of clients) client.close();
  const figure = recorder.figure(plan.durationMs);
  return {
    mode: plan.mode,
    clients: plan.clients,
    messages: figure.ops,
    messagesPerSec: figure.opsPerSec,
    p50Us: figure.p50Us,
    p99Us: figure.p99Us,
    errors,
    answeredTotal,
    clientCpuShare: round(cpuUsed / 1000 / plan.durationMs, 2),
  };
}

if (process.argv[1]?.endsWith("load-client.ts")) {
  const plan = JSON.parse(process.argv[2] ?? "{}") as LoadPlan;
  const result = await runLoad(plan);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
