import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertStrongSecret, deriveKey, loadGatewaySecret } from "../src/pairing/secret.js";

const fresh = () => mkdtempSync(join(tmpdir(), "gh-secret-"));
const noEnv = {} as NodeJS.ProcessEnv;

describe("the gateway secret", () => {
  it("is created once at <dataDir>/secret with mode 0600 and then reused", () => {
    const dir = fresh();
    const first = loadGatewaySecret(dir, noEnv);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
    expect(loadGatewaySecret(dir, noEnv).equals(first)).toBe(true);
  });

  it("comes from GATEHOUSE_SECRET when set, refusing empty, short and placeholder values", () => {
    const dir = fresh();
    const strong = "s".repeat(20) + "0123456789abcdefXYZ";
    expect(loadGatewaySecret(dir, { GATEHOUSE_SECRET: strong }).toString()).toBe(strong);
    for (const bad of ["", "   ", "changeme", "undefined", "short"]) {
      expect(() => loadGatewaySecret(dir, { GATEHOUSE_SECRET: bad })).toThrow(/GATEHOUSE_SECRET/);
    }
    expect(() => assertStrongSecret("CHANGEME", "token")).toThrow(/placeholder/);
  });

  it("an empty secret file is an error, never silently replaced", () => {
    const dir = fresh();
    writeFileSync(join(dir, "secret"), "");
    expect(() => loadGatewaySecret(dir, noEnv)).toThrow(/empty or too short/);
    expect(readFileSync(join(dir, "secret"), "utf8")).toBe("");
  });

  it("an unreadable secret file is an error", () => {
    const dir = fresh();
    mkdirSync(join(dir, "secret")); // a directory where the file should be: unreadable as a file, even for root
    expect(() => loadGatewaySecret(dir, noEnv)).toThrow(/cannot be read/);
  });

  it("two processes creating it at the same time end with the same secret", async () => {
    const dir = fresh();
    const script = `import { loadGatewaySecret } from ${JSON.stringify(new URL("../src/pairing/secret.ts", import.meta.url).pathname)};
      process.stdout.write(loadGatewaySecret(${JSON.stringify(dir)}, {}).toString("hex"));`;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toBe(readFileSync(join(dir, "secret")).toString("hex"));
  });

  it("derives a separate key per purpose", () => {
    const secret = Buffer.alloc(32, 3);
    const keys = (["code-hash", "button-signing", "cookie", "session-token"] as const).map((p) =>
      deriveKey(secret, p).toString("hex"),
    );
    expect(new Set(keys).size).toBe(4);
    expect(deriveKey(secret, "cookie").equals(deriveKey(secret, "cookie"))).toBe(true);
  });
});
