import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BUTTON_TOKEN_LENGTH,
  buttonCodeRef,
  buttonKey,
  peekButtonAction,
  signButtonToken,
  verifyButtonToken,
} from "../src/pairing/buttons.js";
import { CODE_ALPHABET, generateRawCode } from "../src/pairing/codes.js";

const NOW = Date.UTC(2026, 0, 1);
const key = buttonKey(randomBytes(32));
const claims = {
  action: "approve" as const,
  channelType: "telegram",
  code: "ABCD-EFGH",
  recipient: "111",
  expiresAt: NOW + 3_600_000,
};
const context = { channelType: "telegram", pressedBy: "111", now: NOW };

describe("signed button tokens", () => {
  it("round-trips action, code and expiry for the owner it was signed for", () => {
    const token = signButtonToken(key, claims);
    expect(verifyButtonToken(key, token, context)).toEqual({
      ok: true,
      action: "approve",
      subject: "pairing",
      code: "ABCDEFGH",
      expiresAt: NOW + 3_600_000,
    });
    expect(peekButtonAction(token)).toBe("approve");
    expect(peekButtonAction(signButtonToken(key, { ...claims, action: "deny" }))).toBe("deny");
  });

  it("tells a pairing button from an action-approval button, and a changed subject no longer verifies", () => {
    const action = signButtonToken(key, { ...claims, action: "deny", subject: "action" });
    expect(verifyButtonToken(key, action, context)).toMatchObject({
      ok: true,
      action: "deny",
      subject: "action",
      code: "ABCDEFGH",
    });
    expect(peekButtonAction(action)).toBe("deny");
    // Rewriting the action byte to the pairing deny (same code) breaks the MAC: a card of one kind never decides the other.
    const raw = Buffer.from(action, "base64url");
    raw[0] = (raw[0]! & 0xf0) | 2;
    expect(verifyButtonToken(key, raw.toString("base64url"), context)).toEqual({ ok: false, reason: "invalid" });
  });

  it("tells a webchat device's card from a pairing card of the channel it came on, both ways", () => {
    const device = signButtonToken(key, { ...claims, subject: "device" });
    expect(verifyButtonToken(key, device, context)).toMatchObject({ ok: true, subject: "device", code: "ABCDEFGH" });
    expect(peekButtonAction(device)).toBe("approve");
    // A Telegram request's card cannot be turned into a device's (or back) by rewriting the subject: the MAC breaks.
    for (const [token, rewritten] of [
      [device, 1],
      [signButtonToken(key, claims), 5],
    ] as const) {
      const raw = Buffer.from(token, "base64url");
      raw[0] = (raw[0]! & 0xf0) | rewritten;
      expect(verifyButtonToken(key, raw.toString("base64url"), context)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  it("fits Telegram's 64-byte callback_data for the longest ids and channel types (ids are bound, not carried)", () => {
    const longest = { ...claims, channelType: "a".repeat(64), recipient: "9".repeat(256), code: "ZZZZ-9999" };
    const token = signButtonToken(key, longest);
    expect(token).toHaveLength(BUTTON_TOKEN_LENGTH);
    expect(Buffer.byteLength(token, "utf8")).toBeLessThanOrEqual(64);
    expect(
      verifyButtonToken(key, token, { channelType: longest.channelType, pressedBy: longest.recipient, now: NOW }).ok,
    ).toBe(true);
  });

  it("keeps every code intact (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 8, maxLength: 8 }), (digits) => {
        const code = digits.map((d) => CODE_ALPHABET[d]).join("");
        const result = verifyButtonToken(key, signButtonToken(key, { ...claims, code }), context);
        return result.ok && result.code === code;
      }),
    );
  });

  it("refuses a token past its expiry as expired", () => {
    const token = signButtonToken(key, claims);
    expect(verifyButtonToken(key, token, { ...context, now: NOW + 3_600_000 })).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses tokens for another presser, another channel type, or made with another key", () => {
    const token = signButtonToken(key, claims);
    expect(verifyButtonToken(key, token, { ...context, pressedBy: "222" })).toEqual({ ok: false, reason: "invalid" });
    expect(verifyButtonToken(key, token, { ...context, channelType: "discord" })).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(verifyButtonToken(buttonKey(randomBytes(32)), token, context)).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses any single altered byte, including a switched action or a later expiry", () => {
    const raw = Buffer.from(signButtonToken(key, claims), "base64url");
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i] = (altered[i] ?? 0) ^ 0x01;
      expect(verifyButtonToken(key, altered.toString("base64url"), context).ok, `byte ${i}`).toBe(false);
    }
  });

  it("refuses malformed input without throwing", () => {
    for (const bad of [
      undefined,
      null,
      42,
      "",
      "x".repeat(38),
      "a".repeat(200),
      "!".repeat(38),
      signButtonToken(key, claims) + "A",
    ]) {
      expect(verifyButtonToken(key, bad, context)).toEqual({ ok: false, reason: "invalid" });
    }
    expect(peekButtonAction("nonsense")).toBeNull();
  });

  it("is deterministic per key (survives restarts with the persistent secret) and differs per purpose-derived key", () => {
    const secret = randomBytes(32);
    const a = signButtonToken(buttonKey(secret), claims);
    expect(verifyButtonToken(buttonKey(Buffer.from(secret)), a, context).ok).toBe(true);
  });

  it("carries a code in a store's own format as a keyed reference the router resolves, in the same 38 characters", () => {
    const token = signButtonToken(key, { ...claims, code: "DEADBEE0" }); // 0 is not in gatehouse's alphabet
    expect(token).toHaveLength(BUTTON_TOKEN_LENGTH);
    const verdict = verifyButtonToken(key, token, {
      channelType: claims.channelType,
      pressedBy: claims.recipient,
      now: claims.expiresAt - 1000,
    });
    expect(verdict).toMatchObject({ ok: true, action: claims.action, code: null });
    const codeRef = verdict.ok && verdict.code === null ? verdict.codeRef : "";
    expect(codeRef).toBe(buttonCodeRef(key, claims.channelType, "dead-bee0"));
    expect(codeRef).not.toBe(buttonCodeRef(key, claims.channelType, "DEADBEE1"));
    expect(codeRef).not.toBe(buttonCodeRef(key, "discord", "DEADBEE0"));
    expect(codeRef).not.toBe(buttonCodeRef(buttonKey(randomBytes(32)), claims.channelType, "DEADBEE0"));
  });

  it("rejects bad claims with an error naming the field", () => {
    expect(() => signButtonToken(key, { ...claims, code: "no!" })).toThrow(/code/);
    expect(() => signButtonToken(key, { ...claims, code: "x".repeat(65) })).toThrow(/code/);
    expect(() => signButtonToken(key, { ...claims, expiresAt: -5 })).toThrow(/expiresAt/);
    expect(() => signButtonToken(key, { ...claims, action: "steal" as "approve" })).toThrow(/action/);
    expect(generateRawCode()).toHaveLength(8);
  });
});
