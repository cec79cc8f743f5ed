export * from "./protocols/index.js";
export * from "./pairing/index.js";
export * from "./stores/index.js";
