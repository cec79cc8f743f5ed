import { expect } from "vitest";
import { DEFAULT_MESSAGES } from "../../src/channels/messages.js";
import { buttonKey, signButtonToken } from "../../src/pairing/buttons.js";
import { normalizeCode } from "../../src/pairing/codes.js";
import type { TestClock, TestGateway } from "../channels-context.js";
import { until } from "./until.js";

/**
 * Shared end-to-end refusal cases for Approve/Deny buttons (issue 5): every channel test drives the same table through its
 * real adapter, and every refusal must be answered visibly to the presser and change nothing.
 */

/** Where a press comes from: the presser's own DM with the bot, a group/channel, or another user's DM. */
export type PressPlace = "own-dm" | "group" | "other-dm";

export interface CardButtons {
  code: string;
  approve: string;
  deny: string;
}

export interface RefusalDriver {
  channelType: string;
  owner: string;
  /** The test gateway the channel runs in: its real stores and the echo agent's calls. */
  gw: Pick<TestGateway, "stores" | "agentCalls">;
  clock: TestClock;
  /** The platform reports the pressed action apart from the token (Slack action id, Discord custom id); Telegram does not. */
  reportsAction: boolean;
  /**
   * Where a press can come from on this platform; default all three. On WhatsApp a reply button is always pressed in the
   * presser's own chat with the business, so "group" and "other-dm" cannot happen there.
   */
  places?: readonly PressPlace[];
  /** The unknown user writes `text`; resolves once they have a code and the owner has the card, with its buttons. */
  requestAccess(userId: string, text: string): Promise<CardButtons>;
  /**
   * Presses a button as the platform would deliver it (signed where the platform signs), `action` being what the
   * platform reports besides the token (action id / custom id); resolves with the text the presser is shown.
   */
  press(token: string, presser: string, where: PressPlace, action?: "approve" | "deny"): Promise<string>;
  /** The user writes to the bot in their DM (delivered as the platform would). */
  write(userId: string, text: string): Promise<void>;
  /** Everything the bot sent the user so far (their DM). */
  textsTo(userId: string): string[];
}

/** A well-formed token for the right channel, code and owner, signed with a key that is not the gateway's. */
export function forgedToken(channelType: string, code: string, recipient: string, now: number): string {
  return signButtonToken(buttonKey(Buffer.alloc(32, 7)), {
    action: "approve",
    channelType,
    code: normalizeCode(code)!,
    recipient,
    expiresAt: now + 30 * 60_000,
  });
}

/** The genuine token with one character of its body changed (still canonical base64url, so only the MAC can refuse it). */
export function alteredToken(token: string): string {
  return token.slice(0, 5) + (token[5] === "A" ? "B" : "A") + token.slice(6);
}

interface PairingSnapshot {
  pending: unknown;
  paired: unknown;
  audit: unknown;
  agentCalls: number;
  requesterTexts: string[];
}

async function snapshot(driver: RefusalDriver, requester: string): Promise<PairingSnapshot> {
  const pairing = driver.gw.stores.pairing;
  return {
    pending: await pairing.listPending(driver.channelType),
    paired: await pairing.listPaired(),
    audit: (await pairing.audit({ limit: 1000 })).events,
    agentCalls: driver.gw.agentCalls.length,
    requesterTexts: [...driver.textsTo(requester)],
  };
}

interface RefusalCase {
  name: string;
  /** The press to make, given the card's genuine buttons. */
  press(driver: RefusalDriver, card: CardButtons, requester: string): Promise<string>;
  answer: string;
  needsReportedAction?: boolean;
  /** The place the press comes from, when it is not the owner's own DM. */
  place?: PressPlace;
}

const REFUSALS: RefusalCase[] = [
  {
    name: "press by a non-owner (the requester) in their own DM",
    press: (d, card, requester) => d.press(card.approve, requester, "own-dm", "approve"),
    answer: DEFAULT_MESSAGES.buttonNotOwner,
  },
  {
    name: "owner press from a group/channel",
    press: (d, card) => d.press(card.approve, d.owner, "group", "approve"),
    answer: DEFAULT_MESSAGES.buttonWrongChat,
    place: "group",
  },
  {
    name: "owner press from another user's DM",
    press: (d, card) => d.press(card.approve, d.owner, "other-dm", "approve"),
    answer: DEFAULT_MESSAGES.buttonWrongChat,
    place: "other-dm",
  },
  {
    name: "forged token (signed with another key)",
    press: (d, card) =>
      d.press(forgedToken(d.channelType, card.code, d.owner, d.clock.now()), d.owner, "own-dm", "approve"),
    answer: DEFAULT_MESSAGES.buttonInvalid,
  },
  {
    name: "altered token",
    press: (d, card) => d.press(alteredToken(card.approve), d.owner, "own-dm", "approve"),
    answer: DEFAULT_MESSAGES.buttonInvalid,
  },
  {
    name: "deny token presented as Approve",
    press: (d, card) => d.press(card.deny, d.owner, "own-dm", "approve"),
    answer: DEFAULT_MESSAGES.buttonInvalid,
    needsReportedAction: true,
  },
  {
    name: "expired Approve (61 minutes later)",
    press: async (d, card) => {
      d.clock.advance(61 * 60_000);
      try {
        return await d.press(card.approve, d.owner, "own-dm", "approve");
      } finally {
        d.clock.advance(-61 * 60_000);
      }
    },
    answer: DEFAULT_MESSAGES.buttonExpired,
  },
];

async function expectRefused(
  driver: RefusalDriver,
  requester: string,
  name: string,
  answer: string,
  press: () => Promise<string>,
): Promise<void> {
  const before = await snapshot(driver, requester);
  const shown = await press();
  expect(shown, name).toContain(answer);
  expect(await snapshot(driver, requester), `${name} changed nothing`).toEqual(before);
  expect(
    await driver.gw.stores.pairing.isPaired(requester, driver.channelType),
    `${name}: requester not admitted`,
  ).toBe(false);
}

/**
 * Forged, altered, mismatched, expired, non-owner and wrong-chat presses are each answered with their refusal and change
 * nothing; then the genuine Approve works once, and replaying Approve or pressing Deny afterwards is refused the same way.
 */
export async function expectButtonRefusals(driver: RefusalDriver, requester: string): Promise<void> {
  const text = "let me in";
  const card = await driver.requestAccess(requester, text);
  for (const refusal of REFUSALS) {
    if (refusal.needsReportedAction && !driver.reportsAction) continue;
    if (refusal.place && driver.places && !driver.places.includes(refusal.place)) continue;
    await expectRefused(driver, requester, refusal.name, refusal.answer, () => refusal.press(driver, card, requester));
  }
  expect(driver.gw.agentCalls).toHaveLength(0);

  expect(await driver.press(card.approve, driver.owner, "own-dm", "approve")).toMatch(/Approved/);
  await until(() => driver.textsTo(requester).includes(`echo: ${text}`), "the held message's reply after approval");
  expect(await driver.gw.stores.pairing.isPaired(requester, driver.channelType)).toBe(true);
  for (const [name, token, action] of [
    ["replayed Approve", card.approve, "approve"],
    ["Deny after Approve", card.deny, "deny"],
  ] as const) {
    const before = await snapshot(driver, requester);
    expect(await driver.press(token, driver.owner, "own-dm", action), name).toContain(DEFAULT_MESSAGES.buttonHandled);
    expect(await snapshot(driver, requester), `${name} changed nothing`).toEqual(before);
  }
}

/** Deny: the presser sees it, the requester is told politely, is not admitted, and is on cooldown. */
export async function expectDenyFlow(driver: RefusalDriver, requester: string): Promise<void> {
  const card = await driver.requestAccess(requester, "hi");
  expect(await driver.press(card.deny, driver.owner, "own-dm", "deny")).toMatch(/Denied/);
  await until(() => driver.textsTo(requester).includes(DEFAULT_MESSAGES.denied()), "the deny notice");
  await driver.write(requester, "pretty please");
  await until(() => driver.textsTo(requester).some((t) => /declined recently/.test(t)), "the cooldown notice");
  expect(await driver.gw.stores.pairing.isPaired(requester, driver.channelType)).toBe(false);
  expect(await driver.gw.stores.pairing.listPending(driver.channelType)).toHaveLength(0);
  expect(
    (await driver.gw.stores.pairing.audit({ limit: 1000 })).events.filter((e) => e.type === "denied"),
  ).toHaveLength(1);
  expect(driver.gw.agentCalls).toHaveLength(0);
}
