import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import type { ChannelSection } from "../../channels/descriptor.js";
import { CHANNELS } from "../../channels/registry.js";
import { describeTrust } from "../../config/build-auth.js";
import { ConfigError } from "../../config/errors.js";
import type { GatehouseConfig } from "../../config/schema.js";
import { checkWritableDir, DataDirError } from "../../pairing/data-dir.js";
import { assertStrongSecret, describeSecretSource, loadGatewaySecret } from "../../pairing/secret.js";
import { openStores } from "../../stores/open.js";
import { addCommonOptions, cliConfig, type CommonOptions } from "../environment.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from "../errors.js";
import { printJson, type Output } from "../output.js";
import { portProblem } from "../port-free.js";

type Status = "ok" | "warn" | "fail";

interface Check {
  name: string;
  status: Status;
  detail: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

/** `gatehouse doctor`: config, chat channel tokens and reachability, secret, store reachability, a free port and a few risky settings. Creates nothing. */
export function doctorCommand(io: Output, setExitCode: (code: number) => void): Command {
  return addCommonOptions(
    new Command("doctor").description("check config, chat channels, gateway secret and store reachability"),
  )
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      const checks: Check[] = [];
      let config: GatehouseConfig | undefined;
      try {
        config = cliConfig(options);
        checks.push({
          name: "config",
          status: "ok",
          detail: config.source ?? "no config file; defaults and environment",
        });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        checks.push({ name: "config", status: "fail", detail: error.message });
      }
      if (config) await checkChannels(config, checks);
      const dataDirUsable = config !== undefined && checkDataDir(config, checks);
      if (config && dataDirUsable) {
        const secret = checkSecret(config, checks);
        await checkStore(config, secret, checks);
        await checkSettings(config, checks);
      }
      report(io, checks, options.json === true);
      const failed = checks.some((c) => c.status === "fail");
      setExitCode(!dataDirUsable ? EXIT_USAGE : failed ? EXIT_REFUSED : EXIT_OK);
    });
}

/** How long doctor waits for each chat platform to answer. */
const CHANNEL_PROBE_TIMEOUT_MS = 5000;

/**
 * One line per enabled chat channel: the adapter is built as `start` builds it (so a missing variable or a refused
 * secret fails here as it would there), then its descriptor's probe checks the token's shape and the platform's answer.
 */
async function checkChannels(config: GatehouseConfig, checks: Check[]): Promise<void> {
  const sections = config.channels as Readonly<Record<string, ChannelSection | undefined>>;
  const enabled = CHANNELS.filter((descriptor) => sections[descriptor.type]?.enabled === true);
  const results = await Promise.all(
    enabled.map(async (descriptor): Promise<Check> => {
      const section = sections[descriptor.type]!;
      try {
        await descriptor.create(section, process.env);
      } catch (error) {
        return { name: descriptor.type, status: "fail", detail: (error as Error).message };
      }
      if (!descriptor.probe)
        return { name: descriptor.type, status: "warn", detail: "settings accepted; the platform is not checked" };
      const result = await descriptor.probe(section, process.env, { timeoutMs: CHANNEL_PROBE_TIMEOUT_MS });
      return result.ok
        ? { name: descriptor.type, status: "ok", detail: result.detail }
        : { name: descriptor.type, status: "fail", detail: result.problem };
    }),
  );
  checks.push(...results);
}

/** The data directory `start` would create and write (checked without leaving anything behind). */
function checkDataDir(config: GatehouseConfig, checks: Check[]): boolean {
  try {
    checks.push({ name: "datadir", status: "ok", detail: `${checkWritableDir(config.dataDir)} is writable` });
    return true;
  } catch (error) {
    if (!(error instanceof DataDirError)) throw error;
    checks.push({ name: "datadir", status: "fail", detail: error.message });
    return false;
  }
}

function checkSecret(config: GatehouseConfig, checks: Check[]): Buffer | undefined {
  const fromEnv = process.env.GATEHOUSE_SECRET;
  if (fromEnv !== undefined) {
    // loadConfig has already refused a weak GATEHOUSE_SECRET; this is a belt-and-braces check.
    assertStrongSecret(fromEnv, "GATEHOUSE_SECRET");
    checks.push({ name: "secret", status: "ok", detail: "from GATEHOUSE_SECRET" });
    return Buffer.from(fromEnv.trim(), "utf8");
  }
  const path = join(config.dataDir, "secret");
  if (!existsSync(path)) {
    checks.push({ name: "secret", status: "warn", detail: `${path} does not exist yet; it is created on first start` });
    return undefined;
  }
  try {
    const secret = loadGatewaySecret(config.dataDir, {});
    const mode = statSync(path).mode & 0o077;
    checks.push(
      mode === 0
        ? { name: "secret", status: "ok", detail: path }
        : { name: "secret", status: "warn", detail: `${path} is readable by group or others; chmod 600 it` },
    );
    return secret;
  } catch (error) {
    checks.push({ name: "secret", status: "fail", detail: (error as Error).message });
    return undefined;
  }
}

async function checkStore(config: GatehouseConfig, secret: Buffer | undefined, checks: Check[]): Promise<void> {
  const redacted = redactUrl(config.store);
  if (config.store.startsWith("sqlite:") && !existsSync(resolve(config.store.slice("sqlite:".length)))) {
    checks.push({ name: "store", status: "ok", detail: `${redacted}: no database yet; it is created on first start` });
    checks.push({
      name: "tokens",
      status: "warn",
      detail: "none yet; `gatehouse start` creates an owner token on first start",
    });
    return;
  }
  try {
    // A throwaway secret avoids creating the real one here; "verify" never binds a new store to it, and a store first
    // opened with another secret fails this check, naming the secret to restore.
    const stores = await openStores(config.store, {
      secret: secret ?? randomBytes(32),
      secretSource: describeSecretSource(config.dataDir),
      secretCheck: "verify",
      timeoutMs: 3000,
    });
    try {
      await stores.pairing.health();
      await stores.sessions.health();
      checks.push({ name: "store", status: "ok", detail: `${redacted} (${stores.backend}) answers` });
      const count = stores.tokens ? await stores.tokens.count() : 0;
      checks.push(
        count > 0
          ? { name: "tokens", status: "ok", detail: `${count} API token(s)` }
          : {
              name: "tokens",
              status: "warn",
              detail: "no API tokens; `gatehouse start` creates an owner token on first start",
            },
      );
    } finally {
      await stores.close();
    }
  } catch (error) {
    checks.push({ name: "store", status: "fail", detail: `${redacted}: ${(error as Error).message}` });
  }
}

async function checkSettings(config: GatehouseConfig, checks: Check[]): Promise<void> {
  const { host, port } = config.http;
  // The address start listens on: free now, or why start would fail to listen there.
  const problem = port === 0 ? null : await portProblem(host, port);
  checks.push(
    problem !== null
      ? { name: "port", status: "fail", detail: problem }
      : { name: "port", status: "ok", detail: port === 0 ? "any free port (0)" : `${host}:${port} is free` },
  );
  checks.push(
    LOOPBACK_HOSTS.has(host)
      ? { name: "http", status: "ok", detail: `binds ${host}:${config.http.port}` }
      : {
          name: "http",
          status: "warn",
          detail: `binds ${host}:${config.http.port}, reachable from other machines; put TLS in front`,
        },
  );
  const { auth } = config;
  const backends = [auth.token, auth.jwt, auth.trustedProxy, auth.localSocket || auth.loopback].filter(Boolean);
  checks.push(
    backends.length > 0
      ? { name: "auth", status: auth.loopback ? "warn" : "ok", detail: `trusted: ${describeTrust(config).join("; ")}` }
      : { name: "auth", status: "fail", detail: "every auth backend is off: nobody could administer the gateway" },
  );
  checks.push({ name: "policy", status: "ok", detail: `unknown users: ${config.policy.unknownUserPolicy}` });
}

/** Store URLs may carry passwords (redis://:pw@host): never print them. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function report(io: Output, checks: Check[], json: boolean): void {
  if (json) return printJson(io, { ok: !checks.some((c) => c.status === "fail"), checks });
  for (const check of checks)
    io.out(`${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(8)} ${check.detail}`);
}
