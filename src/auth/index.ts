export { tokenAuth, mintToken, hashToken, isTokenShaped, roleProblem, TOKEN_PREFIX } from "./token.js";
export type { MintTokenOptions, MintedToken } from "./token.js";
export { jwtAuth, type JwtAuthOptions } from "./jwt.js";
export { loopbackAuth, LOCAL_OWNER_ID, FORWARDING_HEADERS, type LoopbackAuthOptions } from "./loopback.js";
export { trustedProxyAuth, type TrustedProxyOptions } from "./trusted-proxy.js";
export { chainAuth, createAuthChain, type AuthChainOptions } from "./chain.js";
export { normalizeAddress, AddressList, isLoopbackAddress } from "./address.js";
export { safeCheck, allow, deny, describeError, type AuthLogger } from "./result.js";
export { bearerCredential, headerValue, presentedCredential } from "./headers.js";
