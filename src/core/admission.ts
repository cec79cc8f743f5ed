import type { Principal } from "../protocols/types.js";
import { PairingCooldownError, PairingLimitError } from "../pairing/errors.js";
import { channelTypeProblem, idProblem, MAX_FIRST_MESSAGE_LENGTH } from "../pairing/validation.js";
import type { GatewayContext, GatewayPairingStore } from "./context.js";
import { GatewayError } from "./errors.js";
import { STORE_DEADLINE_MS, withDeadline } from "./deadline.js";
import { isListed, OWNER_ROLES } from "./identity-lists.js";
import { canHaveStoreOwners, isStoreOwner } from "./owners.js";
import { isPairedForAdmission } from "./paired-batch.js";

export type AdmissionResult =
  | { decision: "admitted"; reason: "owner" | "allowlist" | "paired" | "policy-allow" }
  /** isNew: a new pending request was created by this call (tell the owner); false for a repeat. */
  | { decision: "pending"; code: string; expiresAt?: number; isNew: boolean }
  | { decision: "denied"; reason: "policy-deny" | "cooldown" | "limit"; message: string }
  /** The store is down or slow: fail closed and say so. */
  | { decision: "unavailable"; message: string };

export interface AdmissionSender {
  channelType: string;
  senderId: string;
  userName?: string;
  /** The message that was blocked; kept with the pending request and handed to the agent once approved. */
  text?: string;
}

export interface AdmissionOptions {
  /** Deadline for each store call, milliseconds (default 2000). */
  deadlineMs?: number;
  /**
   * false: an existing pending request is still reported, but no new one is created (the caller's own flood limit,
   * e.g. per network address, is spent); the sender is told to try later. Default true.
   */
  allowNewRequest?: boolean;
  /**
   * A budget (per network address, say) that pays for new pending requests: one unit is reserved before the store is
   * asked to create a request, atomically (so parallel senders cannot all see it unspent), and given back when no
   * request came of it. Spent: the sender is told to try later. A failing budget fails closed (`unavailable`).
   */
  newRequestBudget?: NewRequestBudget;
}

export interface NewRequestBudget {
  take(): Promise<boolean>;
  giveBack(): Promise<void>;
}

/** The usual answer for a paired sender, one frozen object shared by every message rather than one made per message. */
const ADMITTED_PAIRED: AdmissionResult = Object.freeze({ decision: "admitted", reason: "paired" });

export const UNAVAILABLE_MESSAGE = "Access checks are temporarily unavailable; please try again in a little while.";
const POLICY_DENY_MESSAGE = "This gateway does not accept messages from unknown senders.";
const MAX_USER_NAME_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** The session key of one sender in one chat: each sender gets their own context, never one shared by all. */
export function sessionKey(channelType: string, chatId: string, senderId: string): string {
  return `${channelType}:${chatId}:${senderId}`;
}

/**
 * The one admission decision for an inbound chat or webchat message: owners and allowlisted senders pass, paired senders
 * pass, unknown senders get the configured policy. Any store failure or a store call slower than the deadline is
 * `unavailable` (fail closed), never an admission.
 */
export function admit(
  ctx: GatewayContext,
  sender: AdmissionSender,
  options: AdmissionOptions = {},
): Promise<AdmissionResult> {
  return counted(ctx, sender.channelType, decide(ctx, sender, options));
}

/**
 * Whether a sender asked again and again (a connected webchat device, before each of its requests) is still admitted:
 * `admit` read as in or not, and a store that cannot say throws GatewayError "unavailable" (the request fails closed).
 * What needs no store (the sender's form, the owner and allow lists) is decided once, here; each call of the function
 * it returns then asks the store only whether the sender is still paired, in the admission batch. The decisions and
 * metrics are admit's: a sender who is no longer paired meets the unknown-sender policy.
 */
export function readmission(
  ctx: GatewayContext,
  sender: AdmissionSender,
  options: AdmissionOptions = {},
): () => Promise<boolean> {
  const { channelType, senderId } = sender;
  if (decideWithoutStore(ctx, channelType, senderId) !== ASK_STORE || canHaveStoreOwners(channelType))
    return () => admit(ctx, sender, options).then(stillIn);
  const deadlineMs = options.deadlineMs ?? STORE_DEADLINE_MS;
  const stillPaired = (paired: boolean): boolean | Promise<boolean> => {
    if (!paired) return counted(ctx, channelType, unknownSender(ctx, sender, deadlineMs, options)).then(stillIn);
    recorded(ctx, channelType, ADMITTED_PAIRED);
    return true;
  };
  const storeFailed = (error: unknown): boolean =>
    stillIn(recorded(ctx, channelType, failedAdmission(ctx, channelType, error)));
  // The batch's promise and one `then` per call: this runs before every webchat request.
  return () => isPairedForAdmission(ctx.pairing, senderId, channelType, deadlineMs).then(stillPaired, storeFailed);
}

/** A re-admission's answer: in or not; a store that cannot say throws, so the request fails closed. */
function stillIn(result: AdmissionResult): boolean {
  if (result.decision === "unavailable") throw new GatewayError("unavailable", result.message);
  return result.decision === "admitted";
}

/** A decision as it comes out, counted in the gateway's metrics when it has them. */
function counted(
  ctx: GatewayContext,
  channelType: string,
  decision: Promise<AdmissionResult>,
): Promise<AdmissionResult> {
  if (!ctx.metrics) return decision;
  const channel = channelTypeProblem(channelType) === null ? channelType : "invalid";
  return decision.then((result) => recorded(ctx, channel, result));
}

/** One decision counted in the gateway's metrics (when it has them) under `channel`: its channel type, or "invalid". */
function recorded(ctx: GatewayContext, channel: string, result: AdmissionResult): AdmissionResult {
  ctx.metrics?.admission(channel, result.decision, reasonOf(result));
  return result;
}

/** The rule that decided, as a metrics label: a fixed word, never the code or message. */
function reasonOf(result: AdmissionResult): string {
  switch (result.decision) {
    case "pending":
      return result.isNew ? "new" : "repeat";
    case "unavailable":
      return "store";
    default:
      return result.reason;
  }
}

/** decideWithoutStore's answers that are not yet a decision. */
const ALLOWLISTED = "allowlisted";
const ASK_STORE = "ask-store";

/**
 * What admission decides without the store: a malformed sender is refused and a listed owner let in; an allowlisted
 * sender is let in too, once the store has said whether they act as an owner; everyone else needs the store.
 */
function decideWithoutStore(
  ctx: GatewayContext,
  channelType: string,
  senderId: string,
): AdmissionResult | typeof ALLOWLISTED | typeof ASK_STORE {
  const problem = channelTypeProblem(channelType) ?? idProblem(senderId);
  if (problem !== null) {
    const field = channelTypeProblem(channelType) !== null ? "channelType" : "senderId";
    return { decision: "denied", reason: "policy-deny", message: `${field} ${problem}` };
  }
  if (isListed(ctx.policy.ownerUserIds, channelType, senderId)) return { decision: "admitted", reason: "owner" };
  if (isListed(ctx.policy.allowedUsers, channelType, senderId)) return ALLOWLISTED;
  return ASK_STORE;
}

async function decide(
  ctx: GatewayContext,
  sender: AdmissionSender,
  options: AdmissionOptions,
): Promise<AdmissionResult> {
  const { channelType, senderId } = sender;
  const withoutStore = decideWithoutStore(ctx, channelType, senderId);
  if (typeof withoutStore !== "string") return withoutStore;
  const deadlineMs = options.deadlineMs ?? STORE_DEADLINE_MS;
  const store = ctx.pairing;
  if (withoutStore === ALLOWLISTED) {
    // Admitted whatever the store says; it only tells whether they act as an owner too.
    const owner = await isStoreOwner(store, channelType, senderId, deadlineMs).catch(() => false);
    return { decision: "admitted", reason: owner ? "owner" : "allowlist" };
  }

  try {
    // Both asked in the same store round (the admission batch): a store-kept owner, then a paired sender. Where nobody
    // can be a store-kept owner (webchat, whose every request is re-admitted), only the pairing is asked.
    if (!canHaveStoreOwners(channelType)) {
      if (await isPairedForAdmission(store, senderId, channelType, deadlineMs)) return ADMITTED_PAIRED;
    } else {
      const [owner, paired] = await Promise.all([
        isStoreOwner(store, channelType, senderId, deadlineMs),
        isPairedForAdmission(store, senderId, channelType, deadlineMs),
      ]);
      if (owner) return { decision: "admitted", reason: "owner" };
      if (paired) return ADMITTED_PAIRED;
    }
    return await byPolicy(ctx, sender, deadlineMs, options);
  } catch (error) {
    return failedAdmission(ctx, channelType, error);
  }
}

/** A sender who is neither an owner, nor listed, nor paired: the configured policy for unknown senders. */
function byPolicy(
  ctx: GatewayContext,
  sender: AdmissionSender,
  deadlineMs: number,
  options: AdmissionOptions,
): Promise<AdmissionResult> {
  switch (ctx.policy.unknownUserPolicy) {
    case "allow":
      return Promise.resolve({ decision: "admitted", reason: "policy-allow" });
    case "pair":
      return requestPairing(ctx.pairing, sender, deadlineMs, options);
    default:
      return Promise.resolve({ decision: "denied", reason: "policy-deny", message: POLICY_DENY_MESSAGE });
  }
}

/** byPolicy, with a store failure on the way turned into its decision. */
function unknownSender(
  ctx: GatewayContext,
  sender: AdmissionSender,
  deadlineMs: number,
  options: AdmissionOptions,
): Promise<AdmissionResult> {
  return byPolicy(ctx, sender, deadlineMs, options).catch((error: unknown) =>
    failedAdmission(ctx, sender.channelType, error),
  );
}

/** A store call of admission failed: a cooldown or a full queue is the sender's answer; anything else fails closed. */
function failedAdmission(ctx: GatewayContext, channelType: string, error: unknown): AdmissionResult {
  if (error instanceof PairingCooldownError) {
    return { decision: "denied", reason: "cooldown", message: politeCooldown(error) };
  }
  if (error instanceof PairingLimitError) {
    return {
      decision: "denied",
      reason: "limit",
      message: "Too many people are waiting for approval right now; please try again later.",
    };
  }
  ctx.logger.warn("admission failed closed: pairing store error", {
    channelType,
    error: error instanceof Error ? error.name : typeof error,
    reason: error instanceof Error ? error.message : String(error),
  });
  return { decision: "unavailable", message: UNAVAILABLE_MESSAGE };
}

const FLOOD_LIMITED: AdmissionResult = {
  decision: "denied",
  reason: "limit",
  message: "Too many pairing requests from your network right now; please try again later.",
};

/**
 * Reserves a unit of the new-request budget (when there is one) before `create`, and gives it back when `create`
 * fails: at most the budget's worth of requests is ever created, however many callers race.
 */
async function paidFor<T>(
  options: AdmissionOptions,
  deadlineMs: number,
  create: () => Promise<T>,
): Promise<T | typeof FLOOD_LIMITED> {
  if (options.allowNewRequest === false) return FLOOD_LIMITED;
  const budget = options.newRequestBudget;
  if (!budget) return create();
  if (!(await withDeadline("budget.take", () => budget.take(), deadlineMs))) return FLOOD_LIMITED;
  try {
    return await create();
  } catch (error) {
    await withDeadline("budget.giveBack", () => budget.giveBack(), deadlineMs).catch(() => undefined);
    throw error;
  }
}

async function requestPairing(
  store: GatewayPairingStore,
  sender: AdmissionSender,
  deadlineMs: number,
  options: AdmissionOptions,
): Promise<AdmissionResult> {
  const { channelType, senderId } = sender;
  const pendingFor = store.pendingFor?.bind(store);
  if (pendingFor) {
    const existing = await withDeadline("pairing.pendingFor", () => pendingFor(senderId, channelType), deadlineMs);
    if (existing) return { decision: "pending", code: existing.code, expiresAt: existing.expiresAt, isNew: false };
    const details = { userName: cleanUserName(sender.userName), firstMessage: clip(sender.text) };
    const code = await paidFor(options, deadlineMs, () =>
      withDeadline(
        "pairing.generateCode",
        () => (store.generateCode as GenerateWithDetails)(channelType, senderId, details),
        deadlineMs,
      ),
    );
    if (typeof code !== "string") return code;
    const created = await withDeadline("pairing.pendingFor", () => pendingFor(senderId, channelType), deadlineMs);
    return { decision: "pending", code, ...(created ? { expiresAt: created.expiresAt } : {}), isNew: true };
  }
  // A protocol-only store: tell new from repeat by its pending list, then ask with the plain two-argument call.
  const before = await withDeadline("pairing.listPending", () => store.listPending(channelType), deadlineMs);
  const repeat = before.some((p) => p.kind === "request" && p.channelId === senderId);
  const generate = () =>
    withDeadline("pairing.generateCode", async () => store.generateCode(channelType, senderId), deadlineMs);
  const code = repeat ? await generate() : await paidFor(options, deadlineMs, generate);
  if (typeof code !== "string") return code;
  return { decision: "pending", code, isNew: !repeat };
}

type GenerateWithDetails = (
  channelType: string,
  channelId: string,
  details: { userName?: string; firstMessage?: string },
) => Promise<string> | string;

function cleanUserName(name: string | undefined): string | undefined {
  if (typeof name !== "string") return undefined;
  const cleaned = name.replace(CONTROL_CHARS, "").trim().slice(0, MAX_USER_NAME_LENGTH);
  return cleaned === "" ? undefined : cleaned;
}

function clip(text: string | undefined): string | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  return text.slice(0, MAX_FIRST_MESSAGE_LENGTH);
}

function politeCooldown(error: PairingCooldownError): string {
  const minutes = Math.max(1, Math.ceil(error.retryAfterMs / 60_000));
  return `Your request was declined recently. You may ask again in about ${minutes} minute(s).`;
}

/** Who is trying to approve, deny or revoke. */
export type OwnerActor =
  | { kind: "principal"; principal: Principal }
  | { kind: "chat"; channelType: string; userId: string };

export type OwnerActionDecision = { allowed: true; actorId: string } | { allowed: false; reason: string };

/**
 * The ONE authorisation check for approve, deny and revoke, on every path (HTTP, WebSocket, CLI in process, chat buttons):
 * an authenticated principal whose server-assigned role is owner or admin, or a chat user who is an owner of that
 * channel (listed in ownerUserIds, or kept in the store after redeeming an owner-claim code). `actorId` is what to
 * record as approvedBy / deniedBy / revokedBy. Throws when the store cannot say (callers fail closed).
 */
export async function authorizeOwnerAction(
  ctx: Pick<GatewayContext, "policy" | "pairing">,
  actor: OwnerActor,
  deadlineMs?: number,
): Promise<OwnerActionDecision> {
  if (actor.kind === "principal") return authorizePrincipal(actor.principal);
  if (actor.kind === "chat") {
    const allowed =
      isListed(ctx.policy.ownerUserIds, actor.channelType, actor.userId) ||
      (await isStoreOwner(ctx.pairing, actor.channelType, actor.userId, deadlineMs));
    if (allowed) return { allowed: true, actorId: `${actor.channelType}:${actor.userId}` };
  }
  return { allowed: false, reason: "only an owner of this channel may approve, deny or revoke pairings" };
}

/** authorizeOwnerAction for an authenticated principal: decided by its server-assigned role alone, without the store. */
export function authorizePrincipal(principal: Principal | undefined): OwnerActionDecision {
  if (principal && typeof principal.userId === "string" && principal.userId !== "" && OWNER_ROLES.has(principal.role)) {
    return { allowed: true, actorId: principal.userId };
  }
  return { allowed: false, reason: "only an owner or admin may approve, deny or revoke pairings" };
}

/** GatewayContext.isOwner for a context's policy and pairing store: authorizeOwnerAction for a chat user. */
export function chatOwnerCheck(ctx: Pick<GatewayContext, "policy" | "pairing">): GatewayContext["isOwner"] {
  return async (channelType, userId) =>
    (await authorizeOwnerAction(ctx, { kind: "chat", channelType, userId })).allowed;
}
