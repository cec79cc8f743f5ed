/**
 * Brute force through the real chat API: an attacker sends `/pair <guess>` as fast as the channel delivers, for one
 * simulated hour (injected clock), while a legitimate user on the same channel type redeems an invite. The number of
 * guesses the store actually evaluates for the attacker's id is counted, printed and held to the bound in SECURITY.md:
 *
 *   guesses per hour per redeemer id per channel type <= redeemFailureLimit * ceil(1 h / lockoutMs) = 5 * 4 = 20
 *
 * (each lockout cycle is the limit's failures plus a lockout of lockoutMs, so at most ceil(1 h / lockoutMs) cycles begin
 * inside any hour).
 */
import { randomInt } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { CODE_ALPHABET, CODE_LENGTH, formatCode } from "../src/pairing/codes.js";
import { DEFAULT_PAIRING_RULES, type AuditEvent } from "../src/stores/types.js";
import { testClock } from "./channels-context.js";
import { OWNER_TOKEN, STORE_KINDS } from "./gateway-helpers.js";
import { CHAT, startChatGateway, type ChatGateway } from "./support/chat-gateway.js";

const HOUR = 60 * 60_000;
const RULES = DEFAULT_PAIRING_RULES;
const GUESS_BOUND_PER_HOUR = RULES.redeemFailureLimit * Math.ceil(HOUR / RULES.lockoutMs);
/** The attacker sends one guess per this many (simulated) milliseconds: far faster than any lockout cycle. */
const ATTEMPT_EVERY_MS = Number(process.env.GATEHOUSE_BRUTE_STEP_MS ?? 500);

function randomGuess(): string {
  let code = "";
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return formatCode(code);
}

let gw: ChatGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe.each(STORE_KINDS.map((k) => [k.name, k] as const))(
  "invite-code brute force over /pair (%s)",
  (name, storeKind) => {
    it("the attacker is locked out, gets at most the documented guesses per hour, and a legitimate user is not affected", async () => {
      const clock = testClock(Date.now());
      gw = await startChatGateway({ storeKind, now: clock.now, routerNow: clock.now });
      const events: AuditEvent[] = [];
      gw.gateway.events.on("audit", (event: AuditEvent) => events.push(event));
      const invite = async () =>
        (await gw!.api("POST", "/api/pairing/invites", { token: OWNER_TOKEN, body: { channelType: CHAT } })).body
          .code as string;

      let attempts = 0;
      let legitimateDone = false;
      let correctWhileLocked: boolean | undefined;
      const start = clock.now();
      while (clock.now() - start < HOUR) {
        clock.advance(ATTEMPT_EVERY_MS);
        attempts += 1;
        await gw.adapter.deliver("mallory", `/pair ${randomGuess()}`);
        if (attempts === 200) {
          // Locked out by now: even the right code is refused to the attacker's id, and counts for nothing.
          const code = await invite();
          await gw.adapter.deliver("mallory", `/pair ${code}`);
          correctWhileLocked = await gw.gateway.context.pairing.isPaired("mallory", CHAT);
          // A legitimate user on the same channel type, during the attacker's lockout, redeems their invite at once.
          await gw.adapter.deliver("carol", `/pair ${await invite()}`);
          legitimateDone = await gw.gateway.context.pairing.isPaired("carol", CHAT);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const guesses = events.filter((e) => e.type === "redeem-failed" && e.channelId === "mallory").length;
      const lockouts = events.filter((e) => e.type === "locked-out" && e.channelId === "mallory").length;
      console.log(
        `BRUTE FORCE (${name}): ${attempts} attempts in one simulated hour -> ${guesses} guesses evaluated for one redeemer id ` +
          `(bound ${GUESS_BOUND_PER_HOUR}), ${lockouts} lockouts; success chance per guess <= ${RULES.maxPendingPerChannelType}/${CODE_ALPHABET.length}^${CODE_LENGTH}`,
      );
      expect(attempts).toBeGreaterThanOrEqual(HOUR / ATTEMPT_EVERY_MS);
      expect(guesses).toBeGreaterThanOrEqual(RULES.redeemFailureLimit);
      expect(guesses).toBeLessThanOrEqual(GUESS_BOUND_PER_HOUR);
      expect(lockouts).toBeGreaterThanOrEqual(2);
      expect(correctWhileLocked).toBe(false);
      expect(legitimateDone).toBe(true);
      expect(await gw.gateway.context.pairing.isPaired("mallory", CHAT)).toBe(false);
      // The attacker was told plainly, and never learned whether a guess was near.
      const replies = new Set(gw.adapter.textsTo("mallory"));
      expect(replies.size).toBeLessThanOrEqual(2);
    }, 120_000);
  },
);

describe("many attacker ids against one pending request", () => {
  it("a request code is invalidated after codeFailureLimit wrong redemptions, whoever makes them", async () => {
    const clock = testClock(Date.now());
    gw = await startChatGateway({ now: clock.now, routerNow: clock.now });
    await gw.adapter.deliver("victim", "hello");
    const code = (await gw.gateway.context.pairing.pendingFor!("victim", CHAT))!.code;
    // Presenting someone else's request code over /pair is refused and counted against that code.
    for (let i = 0; i < RULES.codeFailureLimit; i++) await gw.adapter.deliver(`sybil-${i}`, `/pair ${code}`);
    expect(await gw.gateway.context.pairing.pendingFor!("victim", CHAT)).toBeNull();
    const approved = await gw.api("POST", "/api/pairing/approve", {
      token: OWNER_TOKEN,
      body: { channelType: CHAT, code },
    });
    expect(approved.body).toEqual({ approved: false });
    expect(await gw.gateway.context.pairing.isPaired("victim", CHAT)).toBe(false);
  });
});
