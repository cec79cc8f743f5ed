export type * from "./types.js";
export {
  assertAuthProtocol,
  assertPairingProtocol,
  assertSessionBindingProtocol,
  isAuthProtocol,
  isPairingProtocol,
  isSessionBindingProtocol,
  missingMembers,
} from "./guards.js";
