/**
 * Webchat traffic against a real gateway, for fault and soak tests: new devices ask to pair, the owner approves over
 * HTTP, approved devices reconnect and must come back as themselves. Every answer is classified; anything that is
 * neither a correct answer nor a clear fail-closed refusal is recorded as a problem.
 */
import { deviceId, OWNER_TOKEN, TestSocket, type Frame, type TestGateway } from "../gateway-helpers.js";

export interface LoadStats {
  cycles: number;
  /** Devices whose approval the API confirmed ({ approved: true }). */
  approved: Set<string>;
  /** Refusals that said "unavailable" (HTTP 503, WebSocket 1013 / unavailable): the store was down and we failed closed. */
  failedClosed: number;
  /** A new, unapproved device that got a hello: must stay 0. */
  admittedUnknown: number;
  /** A hello or session lookup naming another principal: must stay 0. */
  wrongPrincipal: number;
  /** Anything else unexpected (crash-like answers, 500s, unknown error codes). */
  problems: string[];
}

export function newStats(): LoadStats {
  return { cycles: 0, approved: new Set(), failedClosed: 0, admittedUnknown: 0, wrongPrincipal: 0, problems: [] };
}

const WAIT_MS = 6_000;

async function firstAnswer(gw: TestGateway, id: string): Promise<{ socket: TestSocket; frame: Frame | null }> {
  const socket = await TestSocket.open(gw.wsUrl);
  socket.send({ type: "connect", params: { deviceId: id } });
  const frame = await socket
    .next((f) => f.type === "pairing" || f.type === "hello" || f.type === "error", WAIT_MS)
    .catch(() => null);
  return { socket, frame };
}

function isUnavailable(frame: Frame): boolean {
  return frame.type === "error" && frame.error?.code === "unavailable";
}

/** Reconnects an approved device: it must come back as itself (or be told the store is unavailable). */
export async function reconnectApproved(gw: TestGateway, id: string, stats: LoadStats): Promise<void> {
  const { socket, frame } = await firstAnswer(gw, id);
  try {
    if (frame === null) return void stats.problems.push(`reconnect of ${id}: no answer`);
    if (isUnavailable(frame)) return void (stats.failedClosed += 1);
    if (frame.type !== "hello")
      return void stats.problems.push(`reconnect of an approved device: ${JSON.stringify(frame).slice(0, 200)}`);
    if (frame.principal?.userId !== id) stats.wrongPrincipal += 1;
    const session = await gw
      .api("GET", `/api/sessions/${encodeURIComponent(frame.sessionId as string)}`, { token: OWNER_TOKEN })
      .catch(() => null);
    if (session?.status === 200 && session.body.principal.userId !== id) stats.wrongPrincipal += 1;
    else if (session && session.status !== 200 && session.status !== 503)
      stats.problems.push(`session lookup: ${session.status}`);
  } finally {
    socket.ws.terminate();
  }
}

/** One new device: ask, get approved by the owner, reconnect as itself. Resolves with its id when it was approved. */
export async function webchatCycle(gw: TestGateway, stats: LoadStats, label = "load"): Promise<string | null> {
  stats.cycles += 1;
  const id = deviceId(label);
  let socket: TestSocket | undefined;
  try {
    const first = await firstAnswer(gw, id);
    socket = first.socket;
    const frame = first.frame;
    if (frame === null) return problem(stats, "connect: no answer");
    if (frame.type === "hello") return count(() => (stats.admittedUnknown += 1));
    if (isUnavailable(frame)) return count(() => (stats.failedClosed += 1));
    if (frame.type !== "pairing") return problem(stats, `connect: ${JSON.stringify(frame).slice(0, 200)}`);
    const response = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: "webchat", code: frame.code },
    });
    if (response.status === 503) return count(() => (stats.failedClosed += 1));
    if (response.status !== 200)
      return problem(stats, `approve: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
    // approved:false: the code went away (the store lost or expired it); the device is simply not paired.
    if (response.body.approved !== true) return problem(stats, "approve: a code just shown was not found");
    stats.approved.add(id);
  } catch (error) {
    return problem(stats, `cycle threw: ${String(error).slice(0, 200)}`);
  } finally {
    socket?.ws.terminate();
  }
  await reconnectApproved(gw, id, stats).catch(
    (error: unknown) => void stats.problems.push(`reconnect threw: ${String(error).slice(0, 200)}`),
  );
  return id;
}

function problem(stats: LoadStats, message: string): null {
  stats.problems.push(message);
  return null;
}

function count(step: () => unknown): null {
  step();
  return null;
}

/** Runs `workers` cycles in parallel until `stop()` returns true. */
export async function runLoad(gw: TestGateway, stats: LoadStats, workers: number, stop: () => boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop()) await webchatCycle(gw, stats);
    }),
  );
}
