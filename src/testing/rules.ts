import type { SuiteRunner } from "./runner.js";

/** Required rules make the gateway correct and safe; recommended ones are what the built-in stores also do. */
export type RuleLevel = "required" | "recommended";

/** Which cases a suite registers: only the required rules, or every rule (the default). */
export type SuiteLevel = "required" | "all";

/** The documentation every failing case points to, shipped in the npm package. */
export const PROTOCOLS_DOC = "docs/protocols.md";

interface Rule {
  level: RuleLevel;
  /** The heading in docs/protocols.md, when it is not the rule's own name. */
  anchor?: string;
}

/** Every rule a conformance case checks, with its level; each has a heading in docs/protocols.md. */
export const STORE_RULES = {
  "code-bound": { level: "required" },
  "approve-requester": { level: "required" },
  "approve-someone-else": { level: "required" },
  "unknown-code": { level: "required" },
  "single-use": { level: "required" },
  revoke: { level: "required" },
  "list-pending": { level: "required" },
  "same-code": { level: "recommended" },
  "code-format": { level: "recommended" },
  "owner-approve": { level: "recommended" },
  "channel-type-bound": { level: "recommended" },
  expiry: { level: "recommended" },
  caps: { level: "recommended" },
  invites: { level: "recommended" },
  "guess-limits": { level: "recommended" },
  "malformed-input": { level: "recommended" },
  "input-errors": { level: "recommended" },
  "revoke-wins": { level: "recommended" },
  "optional-capabilities": { level: "recommended" },
  "session-binding": { level: "required", anchor: "sessionbindingprotocol" },
  "session-extras": { level: "recommended", anchor: "sessionbindingprotocol" },
} as const satisfies Record<string, Rule>;

export type StoreRuleId = keyof typeof STORE_RULES;

/** `docs/protocols.md#same-code`: where a rule is explained. */
export function ruleLink(rule: StoreRuleId): string {
  const entry: Rule = STORE_RULES[rule];
  return `${PROTOCOLS_DOC}#${entry.anchor ?? rule}`;
}

/** What the suites' options add to the runner: which level of rules to check. */
export interface LevelOption {
  /** "required": only the rules the gateway needs to be correct and safe; "all" (default): the recommended ones too. */
  level?: SuiteLevel;
}

/**
 * Registers one case under its rule: titled `[rule] name`, left out when the suite runs at level "required" and the rule
 * is only recommended, and on failure its error message starts with the rule, its level and the doc section to read.
 */
export function ruleCase(
  options: SuiteRunner & LevelOption,
  rule: StoreRuleId,
  name: string,
  body: () => Promise<void>,
  timeout?: number,
): void {
  const { level } = STORE_RULES[rule];
  if (options.level === "required" && level !== "required") return;
  const header = `breaks rule "${rule}" (${level}; see ${ruleLink(rule)})`;
  const wrapped = async (): Promise<void> => {
    try {
      await body();
    } catch (error) {
      if (error instanceof Error) {
        error.message = `${header}: ${error.message}`;
        throw error;
      }
      throw new Error(`${header}: ${String(error)}`, { cause: error });
    }
  };
  if (timeout === undefined) options.it(`[${rule}] ${name}`, wrapped);
  else options.it(`[${rule}] ${name}`, wrapped, timeout);
}
