/** `gatehouse/auth`: the built-in auth backends and API-token helpers, each an AuthProtocol or a tool for one. */
export { tokenAuth, mintToken, mintFirstOwnerToken } from "./token.js";
export type { MintTokenOptions, MintedToken } from "./token.js";
export { jwtAuth, type JwtAuthOptions } from "./jwt.js";
export {
  localSocketAuth,
  loopbackAuth,
  LOCAL_OWNER_ID,
  type LocalSocketAuthOptions,
  type LoopbackAuthOptions,
} from "./local-socket.js";
export { trustedProxyAuth, type TrustedProxyOptions } from "./trusted-proxy.js";
export { chainAuth, createAuthChain, type AuthChainOptions } from "./chain.js";
export type { AuthLogger } from "./result.js";
