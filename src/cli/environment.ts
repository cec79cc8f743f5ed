import { EventEmitter } from "node:events";
import { userInfo } from "node:os";
import type { Command } from "commander";
import { loadConfig, type ConfigOverrides } from "../config/load.js";
import type { GatehouseConfig } from "../config/schema.js";
import { chatOwnerCheck, type OwnerActor } from "../core/admission.js";
import type { GatewayContext } from "../core/context.js";
import { describeSecretSource, loadGatewaySecret } from "../pairing/secret.js";
import { openStores } from "../stores/open.js";
import type { Stores, TokenStore } from "../stores/types.js";
import { refused } from "./errors.js";
import type { Output } from "./output.js";

/** Options every command takes. */
export interface CommonOptions {
  store?: string;
  dataDir?: string;
  config?: string;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option(
      "--store <url>",
      "store URL (memory:, sqlite:<path>, redis://…, postgres://…); default sqlite:<data-dir>/gatehouse.db",
    )
    .option("--data-dir <dir>", "data directory (gateway secret, default SQLite file); default ./.gatehouse")
    .option("--config <file>", "config file; default ./gatehouse.yaml when present");
}

export function cliConfig(options: CommonOptions, extra: ConfigOverrides = {}): GatehouseConfig {
  return loadConfig({ path: options.config, overrides: { store: options.store, dataDir: options.dataDir, ...extra } });
}

/** The opened store plus what the owner operations of src/gateway need, acting as the local operator. */
export interface CliSession {
  config: GatehouseConfig;
  stores: Stores;
  secret: Buffer;
  context: GatewayContext;
  actor: OwnerActor;
}

/**
 * The person at the CLI has the store and the gateway secret on disk: they act as an owner. Their actions still go
 * through the gateway's one owner-action check (authorizeOwnerAction) like every other path.
 */
export function cliActor(): OwnerActor {
  let name = "operator";
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (some containers): keep the generic name.
  }
  return { kind: "principal", principal: { userId: `cli:${name}`, role: "owner" } };
}

/** Opens the configured store with the gateway secret (so invite codes hash alike), runs `fn`, always closes. */
export async function withStores<T>(
  options: CommonOptions,
  io: Output,
  fn: (session: CliSession) => Promise<T>,
): Promise<T> {
  const config = cliConfig(options);
  const secret = loadGatewaySecret(config.dataDir);
  const stores = await openStores(config.store, { secret, secretSource: describeSecretSource(config.dataDir) });
  try {
    const context = ownerContext(config, stores, secret, io);
    return await fn({ config, stores, secret, context, actor: cliActor() });
  } finally {
    await stores.close();
  }
}

export function requireTokens(stores: Stores): TokenStore {
  if (!stores.tokens) throw refused(`the ${stores.backend} store does not keep API tokens yet`);
  return stores.tokens;
}

function ownerContext(config: GatehouseConfig, stores: Stores, secret: Buffer, io: Output): GatewayContext {
  const context: GatewayContext = {
    auth: { check: () => ({ success: false, metadata: { reason: "the CLI serves no requests" } }) },
    pairing: stores.pairing,
    sessions: stores.sessions,
    agent: () => "",
    policy: config.policy,
    events: new EventEmitter(),
    secret,
    logger: {
      info: () => undefined,
      warn: (message) => io.err(`warning: ${message}`),
      error: (message) => io.err(`error: ${message}`),
    },
    isOwner: (channelType, userId) => chatOwnerCheck(context)(channelType, userId),
  };
  return context;
}
