export { loadConfig, validateConfig, parsePort, DEFAULT_CONFIG_FILE } from "./load.js";
export type { ConfigOverrides, LoadConfigOptions } from "./load.js";
export { ConfigError, describeIssues } from "./errors.js";
export { configSchema, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from "./schema.js";
export type { GatehouseConfig, ParsedConfig, AgentConfig, AuthConfig, ChannelsConfig } from "./schema.js";
export { authFromConfig } from "./build-auth.js";
