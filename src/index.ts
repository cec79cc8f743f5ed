export * from "./protocols/index.js";
export * from "./pairing/index.js";
export * from "./stores/index.js";
export * from "./auth/index.js";
export * from "./agents/index.js";
export * from "./gateway/index.js";
