import { describe, expect, it } from "vitest";
import {
  assertAuthProtocol,
  assertPairingProtocol,
  assertSessionBindingProtocol,
  isAuthProtocol,
  isPairingProtocol,
  isSessionBindingProtocol,
} from "../src/index.js";
import { MemoryPairingStore, MemorySessionBindingStore } from "../src/stores/memory/index.js";

const pairingLiteral = {
  generateCode: () => "ABCD-EFGH",
  approve: () => false,
  isPaired: async () => false,
  listPaired: () => [],
  revoke: () => false,
  listPending: () => [],
};

describe("protocol guards (duck typing, no inheritance)", () => {
  it("accept object literals and class instances with the right functions", () => {
    expect(isPairingProtocol(pairingLiteral)).toBe(true);
    expect(isPairingProtocol(new MemoryPairingStore())).toBe(true);
    expect(isSessionBindingProtocol({ bind: () => undefined, lookup: () => null })).toBe(true);
    expect(isSessionBindingProtocol(new MemorySessionBindingStore())).toBe(true);
    expect(isAuthProtocol({ check: async () => ({ success: false, metadata: {} }) })).toBe(true);
    class Auth {
      check() {
        return { success: true, userId: "u", role: "owner", metadata: {} };
      }
    }
    expect(isAuthProtocol(new Auth())).toBe(true);
  });

  it("refuse missing members, non-functions and non-objects", () => {
    const { revoke: _revoke, ...noRevoke } = pairingLiteral;
    expect(isPairingProtocol(noRevoke)).toBe(false);
    expect(isPairingProtocol({ ...pairingLiteral, approve: true })).toBe(false);
    expect(isSessionBindingProtocol({ bind: () => undefined })).toBe(false);
    for (const value of [null, undefined, 42, "x", []]) {
      expect(isAuthProtocol(value)).toBe(false);
      expect(isPairingProtocol(value)).toBe(false);
    }
  });

  it("asserts name every missing member in one TypeError", () => {
    const { revoke: _r, listPending: _l, ...partial } = pairingLiteral;
    expect(() => assertPairingProtocol(partial)).toThrow(new TypeError("pairingStore is missing: listPending, revoke"));
    expect(() => assertSessionBindingProtocol({}, "sessionBinding")).toThrow("sessionBinding is missing: bind, lookup");
    expect(() => assertAuthProtocol({ check: "yes" })).toThrow("auth is missing: check");
    expect(() => assertPairingProtocol(null)).toThrow(TypeError);
    expect(() => assertPairingProtocol(pairingLiteral)).not.toThrow();
  });
});
