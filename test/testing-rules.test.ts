/**
 * The conformance suites as a tool for store authors: every rule has its section in docs/protocols.md with the same level,
 * "required" registers only the required rules, and a failing case says which rule broke and where it is explained.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PairingProtocol } from "gatehouse";
import {
  describePairingStore,
  describeSessionBindingStore,
  ruleLink,
  STORE_RULES,
  type SuiteLevel,
} from "gatehouse/testing";
import { createMapPairingStore, createMapSessionStore } from "../examples/map-store.js";
import { collectCases, type CollectedCase } from "./support/collect-cases.js";
import { anchorsOf } from "./support/markdown.js";

const doc = readFileSync(new URL("../docs/protocols.md", import.meta.url), "utf8");

function pairingCases(store: (ctx: { now: () => number }) => PairingProtocol, level?: SuiteLevel): CollectedCase[] {
  return collectCases((runner) =>
    describePairingStore("store", store, { ...runner, extras: false, ...(level ? { level } : {}) }),
  );
}

const ruleOf = (title: string) => /^\[([a-z-]+)\]/.exec(title)?.[1] as keyof typeof STORE_RULES | undefined;

describe("conformance rules", () => {
  it("every rule has a section in docs/protocols.md saying the same level", () => {
    const anchors = anchorsOf(doc);
    for (const [rule, { level }] of Object.entries(STORE_RULES)) {
      const anchor = ruleLink(rule as keyof typeof STORE_RULES).replace("docs/protocols.md#", "");
      expect(anchors, `section for ${rule}`).toContain(anchor);
      if (anchor !== rule || rule === "optional-capabilities") continue; // sections, not single rules
      expect(doc, `level of ${rule}`).toMatch(
        new RegExp(`^#### ${rule}\\n\\*${level === "required" ? "Required" : "Recommended"}\\.\\*`, "m"),
      );
    }
  });

  it('level "required" registers only required rules; the default adds the recommended ones', () => {
    const required = pairingCases((ctx) => createMapPairingStore(ctx), "required");
    const all = pairingCases((ctx) => createMapPairingStore(ctx));
    expect(required.length).toBeGreaterThanOrEqual(7);
    expect(required.every((c) => STORE_RULES[ruleOf(c.title) ?? "caps"].level === "required")).toBe(true);
    expect(all.length).toBeGreaterThan(required.length + 15);
    expect(new Set(all.map((c) => ruleOf(c.title)))).toContain("same-code");
    const sessions = collectCases((runner) =>
      describeSessionBindingStore("s", () => createMapSessionStore(), { ...runner, level: "required" }),
    );
    expect(sessions.map((c) => ruleOf(c.title))).toEqual(Array(sessions.length).fill("session-binding"));
  });

  it("a store that breaks a rule fails that rule's case, naming the rule, its level and the doc section", async () => {
    // Pairs whoever approve names, like a store written without the approve-someone-else rule.
    const lax = (ctx: { now: () => number }): PairingProtocol => {
      const store = createMapPairingStore(ctx);
      return { ...store, approve: (type, code, _userId, name) => store.approve(type, code, "", name) };
    };
    const failures: string[] = [];
    for (const c of pairingCases(lax, "required")) {
      await c.run().then(
        () => undefined,
        (error: Error) => failures.push(`${c.title} :: ${error.message.split("\n")[0]}`),
      );
    }
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /^\[approve-someone-else\] .* :: breaks rule "approve-someone-else" \(required; see docs\/protocols\.md#approve-someone-else\): /,
    );
  });

  it("the Map example passes every required case", async () => {
    for (const c of pairingCases((ctx) => createMapPairingStore(ctx), "required")) await c.run();
    for (const c of collectCases((runner) =>
      describeSessionBindingStore("s", () => createMapSessionStore(), { ...runner, level: "required" }),
    )) {
      await c.run();
    }
  });
});
