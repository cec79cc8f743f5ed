export {
  describeDifferentialPairingStore,
  DIFFERENTIAL_RULES,
  type DifferentialSuiteOptions,
} from "./differential-suite.js";
export { describePairingStore, type PairingSuiteOptions } from "./pairing-suite.js";
export { describeSessionBindingStore, type SessionSuiteOptions } from "./session-suite.js";
export {
  createTestClock,
  SUITE_IDLE_TTL_MS,
  SUITE_RULES,
  type StoreFactory,
  type SuiteContext,
  type SuiteRunner,
  type TestClock,
} from "./runner.js";
export { describeTokenStore, type TokenStorePairFactory } from "./token-suite.js";
export { describeApprovalStore, type ApprovalStorePairFactory } from "./approval-suite.js";
export {
  PROTOCOLS_DOC,
  ruleLink,
  STORE_RULES,
  type LevelOption,
  type RuleLevel,
  type StoreRuleId,
  type SuiteLevel,
} from "./rules.js";
