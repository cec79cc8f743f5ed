import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/program.js";
import type { Output } from "../src/cli/output.js";

// The argument table runs the CLI in process (same code path as bin/main, minus process start-up) to stay fast;
// the child-process tests in cli-pairing/cli-token/cli-start cover the real binary.
const dir = mkdtempSync(join(tmpdir(), "gh-cli-usage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const common = ["--data-dir", dir, "--store", `sqlite:${join(dir, "gatehouse.db")}`];

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await runCli(args, io);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("gatehouse usage errors exit 2 with a clear message", () => {
  it.each([
    [["frobnicate"], "unknown command 'frobnicate'"],
    [["pairing", "approve", "telegram"], "missing required argument 'code'"],
    [["pairing", "approve", "telegram", "AB!", ...common], "code must be 4-64 letters and digits"],
    [["pairing", "approve", "telegram", "ABCD-EFGH", "--user-id", "", ...common], "--user-id must not be empty"],
    [["pairing", "list", "TELEGRAM", ...common], "channelType must be"],
    [["pairing", "revoke", "telegram", "a\u0001b", ...common], "channelId must not contain control characters"],
    [["pairing", "list", "--bogus"], "unknown option '--bogus'"],
    [["audit", "--limit", "0", ...common], "--limit"],
    [["audit", "--limit", "many", ...common], "must be an integer from 1 to 1000"],
    [["token", "create", "--role", "", ...common], "--role must be"],
    [["start", "--port", "99999", ...common], "must be an integer from 0 to 65535"],
    [["pairing", "list", "--store", "ftp://example.com", "--data-dir", dir], "unsupported store URL scheme"],
    [["pairing", "list", "--config", join(dir, "missing.yaml")], "file not found"],
  ])("%j", async (args, message) => {
    const result = await run(...args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("an invalid config file names the key path", async () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, "http:\n  port: eighty\n");
    const result = await run("pairing", "list", "--config", path, "--data-dir", dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("http.port: expected number, received string");
  });

  it("start refuses a configured channel whose token variable is unset, before creating anything", async () => {
    const path = join(dir, "channels.yaml");
    writeFileSync(path, "channels:\n  telegram:\n    tokenEnv: GH_TEST_UNSET_TOKEN\n");
    const fresh = mkdtempSync(join(tmpdir(), "gh-cli-start-"));
    try {
      const result = await run("start", "--config", path, "--data-dir", fresh, "--port", "0");
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("GH_TEST_UNSET_TOKEN");
      expect(readdirSync(fresh)).toEqual([]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("--help documents the exit codes and exits 0", async () => {
    const result = await run("--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exit codes:\s+0\s+ok\s+1\s+refused/);
    expect(result.stdout).toContain("2  usage or configuration error");
  });

  it("a bare command group prints its help and exits 2", async () => {
    const result = await run("token");
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain("create [options]");
  });
});

describe("gatehouse doctor", () => {
  it("reports a fresh data dir as usable without creating the secret or database", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "gh-doctor-"));
    try {
      const result = await run("doctor", "--data-dir", fresh, "--json");
      expect(result.code, result.stdout).toBe(0);
      const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
      expect(report.ok).toBe(true);
      expect(report.checks.map((c) => c.name)).toEqual([
        "config",
        "datadir",
        "secret",
        "store",
        "tokens",
        "port",
        "http",
        "auth",
        "policy",
      ]);
      expect(report.checks.find((c) => c.name === "secret")?.status).toBe("warn");
      expect(readdirSync(fresh)).toEqual([]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("fails (exit 1) on a corrupt store and a too-short secret file, and warns about a loose secret mode", async () => {
    const broken = mkdtempSync(join(tmpdir(), "gh-doctor-"));
    try {
      writeFileSync(join(broken, "gatehouse.db"), "this is not a database");
      writeFileSync(join(broken, "secret"), "short");
      chmodSync(join(broken, "secret"), 0o644);
      const result = await run("doctor", "--data-dir", broken);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAIL\s+secret/);
      expect(result.stdout).toMatch(/FAIL\s+store/);
      expect(result.stdout).not.toContain("short\n");
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  it("exits 2 on an invalid config and warns about a non-loopback bind", async () => {
    const path = join(dir, "colour.yaml");
    writeFileSync(path, "colour: blue\n");
    const invalid = await run("doctor", "--config", path, "--data-dir", dir);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toContain("colour: unknown key");
    const exposed = join(dir, "exposed.yaml");
    writeFileSync(exposed, "http:\n  host: 0.0.0.0\n");
    const warned = await run("doctor", "--config", exposed, "--data-dir", dir, "--store", "memory:");
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/WARN\s+http/);
  });
});
