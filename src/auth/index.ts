export { tokenAuth, mintToken, hashToken, isTokenShaped, roleProblem, TOKEN_PREFIX } from "./token.js";
export type { MintTokenOptions, MintedToken } from "./token.js";
export { safeCheck, allow, deny, type AuthLogger } from "./result.js";
export { bearerCredential, headerValue, presentedCredential } from "./headers.js";
