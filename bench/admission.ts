import { EventEmitter } from "node:events";
import { pathToFileURL } from "node:url";
import { echoAgent } from "../src/agents/echo.js";
import { admit, sessionKey } from "../src/core/admission.js";
import type { GatewayContext } from "../src/core/context.js";
import { withDeadline } from "../src/core/deadline.js";
import { isListed } from "../src/core/identity-lists.js";
import { silentLogger } from "../src/gateway/logger.js";
import type { Principal } from "../src/protocols/types.js";
import { parseArgs } from "./lib/args.js";
import { BACKENDS, type BackendName, type BenchBackend } from "./lib/backends.js";
import { acrossSizes } from "./lib/grow.js";
import { BENCH, indexStream } from "./lib/dataset.js";
import { measureConcurrent, measureSerial, type Figure, type Limits } from "./lib/measure.js";
import {
  atMost,
  backendRows,
  FIGURE_HEADER,
  figureCells,
  log,
  printTable,
  printTargets,
  type TargetCheck,
} from "./lib/report.js";
import { cpuRatio, ratio } from "./stores.js";

export interface AdmissionBenchOptions {
  quick: boolean;
  backends?: readonly BackendName[];
}

export interface AdmissionSizeResult {
  paired: number;
  seedSeconds: number;
  /** One caller: admit() then the session lookup (and bind when the binding is missing or stale). */
  serial: Figure;
  /** 16 messages in flight at once, as a busy gateway would have (their isPaired checks go to the store together). */
  concurrent16: Figure;
}

export type AdmissionBackendResult = { sizes: AdmissionSizeResult[] } | { skipped: string };

export interface AdmissionBenchResult {
  settings: { sizes: number[]; measureMs: number };
  backends: Partial<Record<BackendName, AdmissionBackendResult>>;
  targets: TargetCheck[];
}

/** A gateway context around the bench stores: policy "pair", one owner and one allowlisted id that the senders are not. */
function contextFor(backend: BenchBackend): GatewayContext {
  const policy = { unknownUserPolicy: "pair" as const, allowedUsers: ["bench-allowed"], ownerUserIds: ["bench-owner"] };
  return {
    auth: { check: () => ({ success: false, metadata: {} }) },
    pairing: backend.stores.pairing,
    sessions: backend.stores.sessions,
    agent: echoAgent,
    policy,
    events: new EventEmitter(),
    secret: backend.secret,
    logger: silentLogger,
    isOwner: (channelType, userId) => Promise.resolve(isListed(policy.ownerUserIds, channelType, userId)),
  };
}

/**
 * The per-message decision for one inbound chat message from a paired sender, as the router makes it: admit() (id
 * checks, owner list, allowlist, isPaired under a deadline), then the sender's own session: lookup, and bind when the
 * binding is missing or belongs to someone else (src/channels/agent-turn.ts).
 */
export function decisionFor(ctx: GatewayContext, size: number): () => Promise<void> {
  const pick = indexStream(size);
  return async () => {
    const i = pick();
    const senderId = BENCH.idOf(i);
    const result = await admit(ctx, { channelType: BENCH.channelType, senderId, userName: `User ${i}`, text: "hello" });
    if (result.decision !== "admitted") throw new Error(`bench: a paired sender was not admitted (${result.decision})`);
    const sessionId = sessionKey(BENCH.channelType, senderId, senderId);
    const existing = await withDeadline("sessions.lookup", () => ctx.sessions.lookup(sessionId));
    if (existing && existing.userId === senderId && existing.role === "user") return;
    const principal: Principal = { userId: senderId, role: "user", channelType: BENCH.channelType, name: `User ${i}` };
    await withDeadline("sessions.bind", () => ctx.sessions.bind(sessionId, principal));
  };
}

export async function runAdmissionBench(options: AdmissionBenchOptions): Promise<AdmissionBenchResult> {
  const sizes = options.quick ? [1_000, 10_000] : [1_000, 1_000_000];
  const limits: Limits = options.quick ? { maxOps: 500_000, maxMs: 300 } : { maxOps: 3_000_000, maxMs: 1_500 };
  const backends: AdmissionBenchResult["backends"] = {};
  for (const name of options.backends ?? BACKENDS) backends[name] = await benchBackend(name, sizes, limits);
  const result: AdmissionBenchResult = {
    settings: { sizes, measureMs: limits.maxMs },
    backends,
    targets: admissionTargets(backends, sizes),
  };
  printAdmissionTables(result);
  return result;
}

async function benchBackend(name: BackendName, sizes: number[], limits: Limits): Promise<AdmissionBackendResult> {
  return acrossSizes("admission", name, sizes, async (backend, size) => {
    const decide = decisionFor(contextFor(backend), size);
    const serial = await measureSerial(decide, limits);
    const concurrent16 = await measureConcurrent(decide, 16, limits);
    log(
      `admission: ${name} @ ${size.toLocaleString("en-US")} paired: ${serial.opsPerSec} decisions/s, ${concurrent16.opsPerSec} with 16 in flight`,
    );
    return { serial, concurrent16 };
  });
}

function admissionTargets(backends: AdmissionBenchResult["backends"], sizes: number[]): TargetCheck[] {
  const [small, large] = [sizes[0] ?? 0, sizes.at(-1) ?? 0];
  const targets: TargetCheck[] = [];
  for (const name of ["sqlite", "redis", "postgres"] as const) {
    const outcome = backends[name];
    if (!outcome) continue;
    const label = `issue 7: ${name} admission slowdown ${small.toLocaleString("en-US")}->${large.toLocaleString("en-US")}`;
    if ("skipped" in outcome) {
      targets.push(atMost(label, null, 2, "x", `skipped: ${outcome.skipped}`));
      continue;
    }
    const at = (paired: number): AdmissionSizeResult | undefined => outcome.sizes.find((s) => s.paired === paired);
    const perCpu = cpuRatio(at(small)?.serial, at(large)?.serial);
    targets.push(
      atMost(
        label,
        ratio(at(small)?.serial, at(large)?.serial),
        2,
        "x",
        `rate at the small size / at the large size; per CPU-second: ${perCpu ?? "n/a"}`,
      ),
    );
  }
  return targets;
}

function printAdmissionTables(result: AdmissionBenchResult): void {
  const rows = backendRows(result.backends, (name, size: AdmissionSizeResult) => [
    [name, size.paired, "1 caller", ...figureCells(size.serial)],
    [name, size.paired, "16 callers", ...figureCells(size.concurrent16)],
  ]);
  printTable(
    "admission: one message's decision (admit + session lookup/bind)",
    ["backend", "paired", "callers", ...FIGURE_HEADER],
    rows,
  );
  printTargets(result.targets);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = parseArgs(process.argv.slice(2));
  const result = await runAdmissionBench(args);
  process.stdout.write(`${JSON.stringify({ admission: result }, null, 2)}\n`);
}
