import { describe, expect, it } from "vitest";
import { CODE_ALPHABET, formatCode, generateRawCode, normalizeCode } from "../src/pairing/codes.js";
import { hashCode, safeEqual } from "../src/pairing/hashing.js";

describe("pairing codes", () => {
  it("are 8 symbols of the 32-symbol alphabet without look-alikes", () => {
    expect(CODE_ALPHABET).toHaveLength(32);
    for (const ch of "0O1I") expect(CODE_ALPHABET).not.toContain(ch);
    for (let i = 0; i < 200; i++) expect(generateRawCode()).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
  });

  it("use every symbol and rarely repeat (CSPRNG, ~40 bits)", () => {
    const codes = Array.from({ length: 5000 }, generateRawCode);
    expect(new Set(codes).size).toBe(5000);
    const used = new Set(codes.join(""));
    expect(used.size).toBe(32);
  });

  it("display as ABCD-EFGH and normalise back", () => {
    expect(formatCode("ABCDEFGH")).toBe("ABCD-EFGH");
    expect(normalizeCode(" abcd-efgh ")).toBe("ABCDEFGH");
    expect(normalizeCode("ab cd ef gh")).toBe("ABCDEFGH");
    expect(normalizeCode("ABCD--EFGH")).toBe("ABCDEFGH");
  });

  it("refuse anything that is not exactly 8 alphabet symbols", () => {
    for (const bad of [
      "",
      "ABCDEFG",
      "ABCDEFGHJ",
      "0BCDEFGH",
      "OBCDEFGH",
      "1BCDEFGH",
      "IBCDEFGH",
      "АBCDEFGH",
      "ABCD_EFGH",
      "A".repeat(10_000),
    ]) {
      expect(normalizeCode(bad)).toBeNull();
    }
    expect(normalizeCode(null)).toBeNull();
    expect(normalizeCode(12345678)).toBeNull();
  });

  it("hash with a key and the channel type", () => {
    const key = Buffer.alloc(32, 7);
    expect(hashCode(key, "telegram", "ABCDEFGH")).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCode(key, "telegram", "ABCDEFGH")).not.toBe(hashCode(key, "discord", "ABCDEFGH"));
    expect(hashCode(key, "telegram", "ABCDEFGH")).not.toBe(hashCode(Buffer.alloc(32, 8), "telegram", "ABCDEFGH"));
  });

  it("compare secrets of any length without throwing", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "x".repeat(1000))).toBe(false);
    expect(safeEqual(Buffer.from("k"), "k")).toBe(true);
  });
});
