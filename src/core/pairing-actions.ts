import type { PairedChannel, PendingRequest, Principal } from "../protocols/types.js";
import { comparableCode } from "../pairing/codes.js";
import { isOwnerScope } from "../pairing/owner-scope.js";
import type { AuditEvent, AuditPage } from "../stores/types.js";
import { DEFAULT_PAIRING_RULES } from "../stores/types.js";
import { authorizeOwnerAction, type OwnerActor } from "./admission.js";
import type { GatewayContext } from "./context.js";
import { PairingInputError, PairingLimitError } from "../pairing/errors.js";
import { withDeadline } from "./deadline.js";
import { fromZodError, GatewayError, notSupportedByStore, storeUnavailable } from "./errors.js";
import {
  approveInput,
  auditQuery,
  denyInput,
  inviteInput,
  pendingQuery,
  revokeInput,
  sessionParams,
} from "./schemas.js";
import type { z } from "zod";

/**
 * The owner operations behind the HTTP admin API and the WebSocket `pairing.*` methods. Each one authorises the actor
 * through authorizeOwnerAction first, so no path can skip the check, then validates its input (nothing is changed on
 * bad input) and calls the store under a deadline.
 */
export interface OwnerActionOptions {
  /** Invite lifetime used to report `expiresAt` (the store's own rule when it opened with defaults). */
  inviteTtlMs?: number;
  now?: () => number;
}

/** A store call under the deadline; any failure but bad input is "unavailable" (fail closed, say so, change nothing). */
export async function storeCall<T>(
  ctx: GatewayContext,
  operation: string,
  call: () => T | Promise<T>,
  deadlineMs?: number,
): Promise<T> {
  try {
    return await withDeadline(operation, call, deadlineMs);
  } catch (error) {
    if (error instanceof PairingInputError) throw error;
    if (error instanceof PairingLimitError)
      throw new GatewayError("rate_limited", error.message, undefined, error.code);
    ctx.logger.warn("store call failed", { operation, error: error instanceof Error ? error.name : "unknown" });
    throw storeUnavailable(error);
  }
}

/** authorizeOwnerAction, with a store that cannot say whether a chat user is an owner reported as unavailable. */
export async function authorize(ctx: GatewayContext, actor: OwnerActor, deadlineMs?: number): Promise<string> {
  const decision = await storeCall(
    ctx,
    "owners.isOwner",
    () => authorizeOwnerAction(ctx, actor, deadlineMs),
    deadlineMs,
  );
  if (!decision.allowed) throw new GatewayError("forbidden", decision.reason);
  return decision.actorId;
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

/** Built-in stores take options (approvedBy, …) and emit their own audit events; protocol-only stores do not. */
function hasExtras(ctx: GatewayContext): boolean {
  return typeof ctx.pairing.subscribe === "function";
}

/** For a protocol-only store, the gateway tells its own sockets about decisions it made (there is no audit stream). */
function emitLocal(
  ctx: GatewayContext,
  type: "approved" | "denied" | "revoked",
  channelType: string,
  channelId: string,
  actor: string,
): void {
  if (hasExtras(ctx)) return;
  const event: AuditEvent = {
    id: `local-${Date.now()}`,
    at: Date.now(),
    type,
    channelType,
    channelId,
    actor,
    detail: {},
  };
  ctx.events.emit(`pairing.${type}`, event);
  ctx.events.emit("audit", event);
}

/** The sender whose pending request has this code (in whatever format the store mints codes), or "". */
async function requesterOf(
  ctx: GatewayContext,
  channelType: string,
  code: string,
  deadlineMs?: number,
): Promise<string> {
  const wanted = comparableCode(code);
  if (wanted === "") return "";
  const pending = await storeCall(ctx, "pairing.listPending", () => ctx.pairing.listPending(channelType), deadlineMs);
  const entry = pending.find(
    (p) => p.kind === "request" && typeof p.code === "string" && comparableCode(p.code) === wanted,
  );
  return entry?.channelId ?? "";
}

/**
 * Approves a pending code, on every path (HTTP, CLI, console, WebSocket, chat buttons). Built-in stores know whose
 * request a code is and record who approved it. A protocol-only store is told the requester: when the caller named no
 * `userId` and the code is a pending request, its sender's id is passed as `userId` (stores written from the protocol
 * docs pair the `userId` they are given, and would otherwise pair an empty id and leave the device locked out).
 */
export async function approvePairing(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
  options: { deadlineMs?: number } = {},
): Promise<{ approved: boolean }> {
  const actorId = await authorize(ctx, actor, options.deadlineMs);
  const { channelType, code, userId: given = "", label = "" } = parse(approveInput, input);
  const store = ctx.pairing;
  const { deadlineMs } = options;
  if (hasExtras(ctx)) {
    const approve = store.approve as (
      t: string,
      c: string,
      u: string,
      n: string,
      o: { approvedBy: string },
    ) => Promise<boolean>;
    const approved = await storeCall(
      ctx,
      "pairing.approve",
      () => approve.call(store, channelType, code, given, label, { approvedBy: actorId }),
      deadlineMs,
    );
    return { approved };
  }
  const userId = given || (await requesterOf(ctx, channelType, code, deadlineMs));
  const approved = await storeCall(
    ctx,
    "pairing.approve",
    () => store.approve(channelType, code, userId, label),
    deadlineMs,
  );
  if (approved) emitLocal(ctx, "approved", channelType, userId, actorId);
  return { approved };
}

export async function denyPairing(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
): Promise<{ denied: boolean }> {
  const actorId = await authorize(ctx, actor);
  const { channelType, code } = parse(denyInput, input);
  const deny = ctx.pairing.deny;
  if (typeof deny !== "function")
    throw notSupportedByStore("denying a request", "the pairing store has no deny() method");
  const denied = await storeCall(ctx, "pairing.deny", () =>
    deny.call(ctx.pairing, channelType, code, { deniedBy: actorId }),
  );
  return { denied };
}

export async function revokePairing(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
): Promise<{ revoked: boolean }> {
  const actorId = await authorize(ctx, actor);
  const { channelType, channelId } = parse(revokeInput, input);
  const store = ctx.pairing;
  const revoke = store.revoke as (id: string, t: string, o?: { revokedBy: string }) => Promise<boolean> | boolean;
  const revoked = await storeCall(ctx, "pairing.revoke", () =>
    hasExtras(ctx)
      ? revoke.call(store, channelId, channelType, { revokedBy: actorId })
      : store.revoke(channelId, channelType),
  );
  if (revoked) emitLocal(ctx, "revoked", channelType, channelId, actorId);
  return { revoked };
}

export async function createInvite(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
  options: OwnerActionOptions = {},
): Promise<{ code: string; expiresAt: number }> {
  await authorize(ctx, actor);
  const { channelType } = parse(inviteInput, input);
  const now = (options.now ?? Date.now)();
  const code = await storeCall(ctx, "pairing.generateCode", () => ctx.pairing.generateCode(channelType));
  return { code, expiresAt: now + (options.inviteTtlMs ?? DEFAULT_PAIRING_RULES.inviteTtlMs) };
}

export async function listPending(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
): Promise<{ pending: PendingRequest[] }> {
  await authorize(ctx, actor);
  const { channelType } = parse(pendingQuery, input);
  const pending = await storeCall(ctx, "pairing.listPending", () => ctx.pairing.listPending(channelType));
  // Owner-claim codes are not pairing requests: `gatehouse owner` shows the owners they make.
  return { pending: pending.filter((p) => !isOwnerScope(p.channelType)) };
}

export async function listPaired(ctx: GatewayContext, actor: OwnerActor): Promise<{ paired: PairedChannel[] }> {
  await authorize(ctx, actor);
  const paired = await storeCall(ctx, "pairing.listPaired", () => ctx.pairing.listPaired());
  return { paired: paired.filter((p) => !isOwnerScope(p.channelType)) };
}

export async function readAudit(ctx: GatewayContext, actor: OwnerActor, input: unknown): Promise<AuditPage> {
  await authorize(ctx, actor);
  const query = parse(auditQuery, input);
  const audit = ctx.pairing.audit;
  if (typeof audit !== "function")
    throw notSupportedByStore("the audit log", "the pairing store has no audit() method");
  return storeCall(ctx, "pairing.audit", () => audit.call(ctx.pairing, query));
}

export async function showSession(
  ctx: GatewayContext,
  actor: OwnerActor,
  input: unknown,
): Promise<{ principal: Principal }> {
  await authorize(ctx, actor);
  const { id } = parse(sessionParams, input);
  const principal = await storeCall(ctx, "sessions.lookup", () => ctx.sessions.lookup(id));
  if (!principal) throw new GatewayError("not_found", "no session with this id");
  return { principal };
}
