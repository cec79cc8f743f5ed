import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { assertStrongSecret } from "../pairing/secret.js";
import { ConfigError, describeIssues } from "./errors.js";
import { configSchema, type GatehouseConfig } from "./schema.js";

export const DEFAULT_CONFIG_FILE = "gatehouse.yaml";

/** Values given on the command line; they win over the environment, which wins over the file. */
export interface ConfigOverrides {
  store?: string;
  dataDir?: string;
  host?: string;
  port?: number;
}

export interface LoadConfigOptions {
  /** A config file; it must exist. Without it, ./gatehouse.yaml is read when present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  cwd?: string;
}

type RawConfig = Record<string, unknown>;

/** Reads gatehouse.yaml (if any), applies GATEHOUSE_* environment and CLI overrides, and validates the result. */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const source = findConfigFile(options.path, cwd);
  const raw = source === null ? {} : readConfigFile(source);
  applyEnv(raw, env);
  applyOverrides(raw, options.overrides ?? {});
  return validateConfig(raw, source);
}

/** Validates an already parsed config object (from YAML or code). */
export function validateConfig(raw: unknown, source: string | null = null): GatehouseConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues), source);
  const { store, ...rest } = result.data;
  return { ...rest, store: store ?? `sqlite:${join(rest.dataDir, "gatehouse.db")}`, source };
}

function findConfigFile(path: string | undefined, cwd: string): string | null {
  if (path !== undefined) {
    const file = resolve(cwd, path);
    if (!existsSync(file)) throw new ConfigError([`--config: file not found: ${file}`]);
    return file;
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : null;
}

function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([`cannot read config file: ${(error as Error).message}`], file);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`),
      file,
    );
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(["(root): expected a mapping of keys"], file);
  return value as RawConfig;
}

function section(raw: RawConfig, key: string): RawConfig {
  const existing = raw[key];
  if (existing !== null && typeof existing === "object" && !Array.isArray(existing)) return existing as RawConfig;
  const created: RawConfig = {};
  raw[key] = created;
  return created;
}

function applyEnv(raw: RawConfig, env: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  const set = (name: string, apply: (value: string) => void) => {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") apply(value.trim());
  };
  set("GATEHOUSE_STORE", (v) => (raw.store = v));
  set("GATEHOUSE_DATA_DIR", (v) => (raw.dataDir = v));
  set("GATEHOUSE_HOST", (v) => (section(raw, "http").host = v));
  set("GATEHOUSE_PORT", (v) => {
    const port = parsePort(v);
    if (port === null) problems.push(`GATEHOUSE_PORT: expected an integer 0-65535, got "${v}"`);
    else section(raw, "http").port = port;
  });
  set("GATEHOUSE_POLICY", (v) => {
    if (!["deny", "allow", "pair"].includes(v))
      problems.push(`GATEHOUSE_POLICY: expected one of deny, allow, pair, got "${v}"`);
    else section(raw, "policy").unknownUserPolicy = v;
  });
  const secret = env.GATEHOUSE_SECRET;
  if (secret !== undefined) {
    try {
      assertStrongSecret(secret, "GATEHOUSE_SECRET");
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function applyOverrides(raw: RawConfig, overrides: ConfigOverrides): void {
  if (overrides.dataDir !== undefined) raw.dataDir = overrides.dataDir;
  if (overrides.store !== undefined) raw.store = overrides.store;
  if (overrides.host !== undefined) section(raw, "http").host = overrides.host;
  if (overrides.port !== undefined) section(raw, "http").port = overrides.port;
}

/** An integer port 0-65535 from text, or null. */
export function parsePort(value: string): number | null {
  if (!/^\d{1,5}$/.test(value.trim())) return null;
  const port = Number(value);
  return port <= 65535 ? port : null;
}
