export { CODE_ALPHABET, CODE_LENGTH, formatCode, generateRawCode, MASKED_CODE, normalizeCode } from "./codes.js";
export { PairingCooldownError, PairingInputError, PairingLimitError, StoreUnavailableError } from "./errors.js";
export { hashCode, safeEqual } from "./hashing.js";
export { assertStrongSecret, deriveKey, loadGatewaySecret, type KeyPurpose } from "./secret.js";
