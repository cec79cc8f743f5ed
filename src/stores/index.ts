export type * from "./types.js";
export { DEFAULT_PAIRING_RULES } from "./types.js";
export { openStores, SUPPORTED_STORE_URLS, type OpenStoresOptions } from "./open.js";
export {
  MemoryPairingStore,
  MemorySessionBindingStore,
  MemoryApprovalStore,
  openMemoryStores,
} from "./memory/index.js";
export type * from "./approvals.js";
