import { dirname } from "node:path";
import { agentFromConfig } from "../../agents/from-config.js";
import { mintFirstOwnerToken } from "../../auth/token.js";
import { authFromConfig, describeTrust, localSocketPath } from "../../config/build-auth.js";
import { ConfigError } from "../../config/errors.js";
import type { GatehouseConfig } from "../../config/schema.js";
import type { Agent, ChannelPlugin, GatewayLogger } from "../../core/context.js";
import { createGateway, type Gateway } from "../../gateway/index.js";
import type { ConversationOptions } from "../../gateway/create-gateway.js";
import { createLogger, type LogFormat, type LogLevel } from "../../gateway/logger.js";
import { describeSecretSource, loadGatewaySecret } from "../../pairing/secret.js";
import { openStores } from "../../stores/open.js";
import { DEVICE_PROOF_SETTING } from "../../stores/settings.js";
import type { Stores } from "../../stores/types.js";
import { cliConfig, type CommonOptions } from "../environment.js";
import { claimLines, claimsForUnownedChannels, type OwnerClaim } from "../owners.js";
import type { Output } from "../output.js";

/** The options of `gatehouse start`. */
export interface StartOptions extends CommonOptions {
  host?: string;
  port?: number;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/** Channel SDKs load only when a channel is configured; a missing token variable is a config error (exit 2). */
async function channelsOf(config: GatehouseConfig): Promise<ChannelPlugin[]> {
  const configured = Object.values(config.channels).some((section) => section !== undefined && section.enabled);
  if (!configured) return [];
  const { channelsFromConfig } = await import("../../channels/from-config.js");
  try {
    return await channelsFromConfig(config.channels);
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)], config.source);
  }
}

/** A missing key variable or an unreadable prompt file is a config error (exit 2), named by its key. */
function agentOf(config: GatehouseConfig): Agent {
  try {
    return agentFromConfig(config.agent, { baseDir: config.source === null ? undefined : dirname(config.source) });
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)], config.source);
  }
}

function conversationOf(section: NonNullable<GatehouseConfig["conversation"]>): ConversationOptions {
  const { idleTtlMinutes, ...rest } = section;
  return { ...rest, ...(idleTtlMinutes === undefined ? {} : { idleTtlMs: Math.round(idleTtlMinutes * 60_000) }) };
}

/**
 * Runs the gateway until SIGINT/SIGTERM. The stores are opened here (so the auth chain can use the token table) and
 * closed after the gateway stops. On the first start (no API token in the store) an owner token is minted and printed
 * once, with the console URL; of several gateways starting at once on one empty store, only one mints and prints it.
 */
export async function runGateway(options: StartOptions, io: Output): Promise<void> {
  const config = cliConfig(options, { host: options.host, port: options.port });
  const logger = createLogger({ level: options.logLevel, format: options.logFormat });
  const channels = await channelsOf(config);
  const agent = agentOf(config);
  const secret = loadGatewaySecret(config.dataDir);
  const stores = await openStores(config.store, { secret, secretSource: describeSecretSource(config.dataDir) });
  let gateway: Gateway | undefined;
  // Signal handlers go in before anything listens: a SIGTERM during start-up still stops cleanly (exit 0).
  let starting: Promise<unknown> = Promise.resolve();
  stopOnSignal(logger, async () => {
    await starting.catch(() => undefined);
    await gateway?.stop();
    await stores.close();
  });
  let firstToken: string | undefined;
  let claims: OwnerClaim[] = [];
  const run = async () => {
    const auth = authFromConfig(config.auth, stores.tokens, logger);
    const deviceProof = config.webchat?.deviceProof;
    if (deviceProof === undefined) await requireProofOnNewStore(stores);
    gateway = createGateway({
      ...(deviceProof !== undefined ? { deviceProof } : {}),
      ...(stores.settings ? { settingsStore: stores.settings } : {}),
      auth,
      pairingStore: stores.pairing,
      sessionBinding: stores.sessions,
      secret,
      dataDir: config.dataDir,
      agent,
      ...(config.conversation ? { conversation: conversationOf(config.conversation) } : {}),
      policy: config.policy,
      channels,
      approvals: {
        ...(stores.approvals ? { store: stores.approvals } : {}),
        defaultTimeoutMs: config.approvals.defaultTimeoutSeconds * 1000,
        maxTimeoutMs: config.approvals.maxTimeoutSeconds * 1000,
        rules: config.approvals.rules,
      },
      http: { ...config.http, localSocket: localSocketPath(config) },
      logger,
      storeBackend: stores.backend,
      ...(stores.seen ? { seenStore: stores.seen } : {}),
      leases: { ...(stores.leases ? { store: stores.leases } : {}), ttlMs: config.instances.leaseSeconds * 1000 },
    });
    await gateway.start();
    // Minted only once the gateway listens, so a failed start never swallows the one-time token.
    firstToken = await firstStartToken(config, stores);
    claims = await claimsForUnownedChannels(config, stores.pairing);
    return gateway.url;
  };
  starting = run();
  let url: string;
  try {
    url = (await starting) as string;
  } catch (error) {
    await gateway?.stop().catch(() => undefined);
    await stores.close();
    throw error;
  }
  announce(io, url, firstToken, claims, describeTrust(config));
}

/**
 * A new store (no API token, nobody paired or pending) starts with webchat.deviceProof "required"; an existing one is
 * left as it is ("optional" unless an owner ran `gatehouse pairing require-proof`), so its name-only devices keep
 * working. Of instances starting at once, the first write wins.
 */
async function requireProofOnNewStore(stores: Stores): Promise<void> {
  if (!stores.settings) return;
  const [tokens, paired, pending] = await Promise.all([
    stores.tokens?.count() ?? 0,
    stores.pairing.listPaired(),
    stores.pairing.listPending(),
  ]);
  if (tokens === 0 && paired.length === 0 && pending.length === 0)
    await stores.settings.setIfAbsent(DEVICE_PROOF_SETTING, "required");
}

async function firstStartToken(config: GatehouseConfig, stores: Stores): Promise<string | undefined> {
  if (!config.auth.token || !stores.tokens) return undefined;
  // Atomic across processes and instances: of gateways starting at once on an empty store, one wins the fixed id.
  return (await mintFirstOwnerToken(stores.tokens))?.token;
}

/** One write, so a reader never sees the URL without the token block that belongs to it. */
function announce(
  io: Output,
  url: string,
  firstToken: string | undefined,
  claims: OwnerClaim[],
  trust: string[],
): void {
  const lines: string[] = [];
  if (claims.length > 0) {
    lines.push("No owner yet for these channels. Owner-claim codes (single use, valid 10 minutes, shown only now):");
    lines.push(...claims.flatMap(claimLines));
    lines.push(
      "Whoever sends one becomes an owner of that channel and gets the Approve/Deny cards. New code: gatehouse owner claim <channel>",
    );
    lines.push("");
  }
  if (firstToken !== undefined) {
    lines.push("First start: an owner token was created. It is shown only now; only its hash is stored:");
    lines.push(`  ${firstToken}`);
    lines.push(
      "Use it as `Authorization: Bearer <token>` or paste it into the console. More: gatehouse token create --role owner",
    );
    lines.push("");
  }
  lines.push(`gatehouse is running at ${url}`);
  lines.push(`Console: ${url}/console`);
  lines.push("Trusted:", ...trust.map((line) => `  - ${line}`));
  io.out(lines.join("\n"));
}

function stopOnSignal(logger: GatewayLogger, stopAll: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C means "now": give up on draining.
      logger.warn("stopping immediately", { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info("stopping", { signal });
    stopAll().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
