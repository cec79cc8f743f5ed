/** `gatehouse/pairing`: for store authors who want gatehouse's own code format (docs/protocols.md#code-format). */
export {
  BOUNDED_CODE,
  CODE_ALPHABET,
  CODE_LENGTH,
  formatCode,
  generateRawCode,
  MASKED_CODE,
  normalizeCode,
} from "./codes.js";
