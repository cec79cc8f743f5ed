import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, validateConfig } from "../src/config/index.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop() as string, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gh-config-"));
  dirs.push(dir);
  return dir;
}

function writeConfig(text: string): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, "gatehouse.yaml");
  writeFileSync(path, text);
  return { dir, path };
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives the documented defaults when there is no file", () => {
    const config = loadConfig({ cwd: tempDir(), env: {} });
    expect(config).toMatchObject({
      store: "sqlite:.gatehouse/gatehouse.db",
      dataDir: "./.gatehouse",
      http: { host: "127.0.0.1", port: 8787, allowedOrigins: [] },
      policy: { unknownUserPolicy: "pair", allowedUsers: [], ownerUserIds: [] },
      agent: { type: "echo" },
      auth: { token: true, loopback: false },
      source: null,
    });
  });

  it("reads the example config shipped in the repository", () => {
    const config = loadConfig({ path: join(import.meta.dirname, "..", "gatehouse.example.yaml"), env: {} });
    expect(config.http.port).toBe(8787);
    expect(config.agent).toEqual({ type: "echo" });
  });

  it("reads ./gatehouse.yaml from the working directory and derives the store from dataDir", () => {
    const { dir } = writeConfig(
      "dataDir: /var/lib/gh\nhttp:\n  port: 9000\nagent:\n  type: http\n  url: http://127.0.0.1:9/agent\n",
    );
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.store).toBe("sqlite:/var/lib/gh/gatehouse.db");
    expect(config.http.port).toBe(9000);
    expect(config.agent).toEqual({ type: "http", url: "http://127.0.0.1:9/agent" });
    expect(config.source).toBe(join(dir, "gatehouse.yaml"));
  });

  it("environment overrides the file and flags override the environment", () => {
    const { path } = writeConfig(
      'store: "memory:"\nhttp:\n  port: 9000\n  host: 0.0.0.0\npolicy:\n  unknownUserPolicy: pair\n',
    );
    const env = {
      GATEHOUSE_PORT: "9100",
      GATEHOUSE_HOST: "::1",
      GATEHOUSE_POLICY: "deny",
      GATEHOUSE_STORE: "sqlite:/tmp/x.db",
      GATEHOUSE_DATA_DIR: "/tmp/d",
    };
    const fromEnv = loadConfig({ path, env });
    expect(fromEnv).toMatchObject({
      store: "sqlite:/tmp/x.db",
      dataDir: "/tmp/d",
      http: { port: 9100, host: "::1" },
      policy: { unknownUserPolicy: "deny" },
    });
    const fromFlags = loadConfig({ path, env, overrides: { port: 0, store: "memory:", host: "127.0.0.1" } });
    expect(fromFlags).toMatchObject({ store: "memory:", http: { port: 0, host: "127.0.0.1" } });
  });

  it.each([
    ["http:\n  port: eighty\n", "http.port: expected number, received string"],
    ["http:\n  port: 70000\n", "http.port: must be 0-65535"],
    ["http:\n  prot: 80\n", "http.prot: unknown key"],
    ["colour: blue\n", "colour: unknown key"],
    ["policy:\n  unknownUserPolicy: maybe\n", "policy.unknownUserPolicy"],
    ["policy:\n  ownerUserIds: [alice, '']\n", "policy.ownerUserIds[1]: must not be empty"],
    ["agent:\n  type: http\n", "agent.url"],
    ["agent:\n  type: shell\n", "agent.type"],
    ["agent:\n  type: openai\n  baseUrl: http://127.0.0.1:11434/v1\n", "agent.model"],
    ["agent:\n  type: openai\n  baseUrl: ftp://x\n  model: m\n", "agent.baseUrl"],
    [
      "agent:\n  type: openai\n  baseUrl: http://x/v1\n  model: m\n  temperature: 3\n",
      "agent.temperature: must be 0-2",
    ],
    [
      "agent:\n  type: openai\n  baseUrl: http://x/v1\n  model: m\n  systemPrompt: a\n  systemPromptFile: b\n",
      "set systemPrompt or systemPromptFile, not both",
    ],
    ["conversation:\n  maxTurns: 0\n", "conversation.maxTurns: must be positive"],
    ["conversation:\n  maxWaiting: -1\n", "conversation.maxWaiting: must be 0 or more"],
    [
      "auth:\n  jwt:\n    issuer: x\n    audience: y\n    algorithms: [RS256]\n",
      "auth.jwt: set exactly one of jwksUrl or publicKey",
    ],
    ["auth:\n  trustedProxy:\n    proxies: []\n    userHeader: x-user\n    role: user\n", "auth.trustedProxy.proxies"],
    ["channels:\n  telegram:\n    ownerUserIds: 12\n", "channels.telegram.ownerUserIds"],
    ["channels:\n  irc: {}\n", "channels.irc: unknown key"],
    [
      "channels:\n  slack:\n    appTokenEnv: SLACK_APP_TOKEN\n",
      "channels.slack.appTokenEnv: Socket Mode (appToken) is not supported",
    ],
    [
      "channels:\n  slack:\n    enabled: false\n    appToken: xapp-1-2\n",
      "channels.slack.appToken: Socket Mode (appToken) is not supported",
    ],
  ])("rejects %j naming the key path", (yaml, expected) => {
    const { path } = writeConfig(yaml);
    expect(problems(() => loadConfig({ path, env: {} })).join("\n")).toContain(expected);
  });

  it("keeps extra channel keys for the channel to validate", () => {
    const config = validateConfig({
      channels: { telegram: { tokenEnv: "TG_TOKEN", ownerUserIds: ["1"], pollingTimeout: 30 } },
    });
    expect(config.channels.telegram).toMatchObject({
      tokenEnv: "TG_TOKEN",
      ownerUserIds: ["1"],
      pollingTimeout: 30,
      enabled: true,
    });
  });

  it("rejects malformed YAML, duplicate keys and a non-mapping document, naming the file", () => {
    for (const yaml of ["http: [1, 2\n", "store: a\nstore: b\n", "- just\n- a list\n"]) {
      const { path } = writeConfig(yaml);
      expect(() => loadConfig({ path, env: {} })).toThrow(path);
    }
  });

  it("rejects a missing --config file", () => {
    expect(problems(() => loadConfig({ path: join(tempDir(), "nope.yaml"), env: {} })).join("")).toContain(
      "file not found",
    );
  });

  it("rejects bad environment values, naming the variable and never echoing a secret", () => {
    expect(problems(() => loadConfig({ cwd: tempDir(), env: { GATEHOUSE_PORT: "http" } }))).toEqual([
      'GATEHOUSE_PORT: expected an integer 0-65535, got "http"',
    ]);
    expect(problems(() => loadConfig({ cwd: tempDir(), env: { GATEHOUSE_POLICY: "open" } })).join("")).toContain(
      "GATEHOUSE_POLICY",
    );
    const weak = problems(() => loadConfig({ cwd: tempDir(), env: { GATEHOUSE_SECRET: "changeme" } })).join("");
    expect(weak).toContain("GATEHOUSE_SECRET is a placeholder");
    const short = problems(() => loadConfig({ cwd: tempDir(), env: { GATEHOUSE_SECRET: "abc123def" } })).join("");
    expect(short).toContain("GATEHOUSE_SECRET is too short");
    expect(short).not.toContain("abc123def");
  });
});
