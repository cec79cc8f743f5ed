/**
 * The built package, imported by name through its export map (node_modules/gatehouse points at this repository, so
 * package.json "exports" and dist/ decide what resolves): the documented names are there, internals are not, and every
 * error class carries the stable code the catalogue lists. Needs `npm run build` first (CI builds before testing).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
let folder = "";

beforeAll(() => {
  if (!existsSync(join(root, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  folder = mkdtempSync(join(tmpdir(), "gatehouse-exports-"));
  mkdirSync(join(folder, "node_modules"));
  symlinkSync(root, join(folder, "node_modules/gatehouse"), "dir");
  writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module", private: true }));
});
afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The runtime names of `specifier` as a user's program sees them, or the error code of the import. */
async function namesOf(specifier: string): Promise<string[] | string> {
  const script = `import(${JSON.stringify(specifier)}).then((m) => console.log(JSON.stringify(Object.keys(m))), (e) => console.log(JSON.stringify(e.code ?? e.message)))`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: folder });
  return JSON.parse(stdout) as string[] | string;
}

const INTERNALS = [
  "withDeadline",
  "admit",
  "hashCode",
  "safeEqual",
  "deriveKey",
  "runAgent",
  "sessionKey",
  "authorizeOwnerAction",
  "safeCheck",
];

describe("the package's public surface", () => {
  it("the root export is the product: protocols and guards, createGateway, openStores, agents, errors", async () => {
    const names = await namesOf("gatehouse");
    expect(names).toEqual(
      expect.arrayContaining([
        "createGateway",
        "openStores",
        "isPairingProtocol",
        "assertPairingProtocol",
        "isAuthProtocol",
        "isSessionBindingProtocol",
        "echoAgent",
        "httpAgent",
        "openaiAgent",
        "GatewayError",
        "PairingLimitError",
        "PairingInputError",
        "StoreUnavailableError",
        "ERROR_CODES",
      ]),
    );
    expect((names as string[]).filter((name) => INTERNALS.includes(name))).toEqual([]);
    expect((names as string[]).length).toBeLessThanOrEqual(25);
  });

  it("backends, channels, auth backends, code helpers and the suites are subpath exports", async () => {
    const expected: Record<string, string[]> = {
      "gatehouse/stores/redis": ["createRedisStores", "openRedisStores"],
      "gatehouse/stores/postgres": ["createPostgresStores", "openPostgresStores"],
      "gatehouse/stores/sqlite": ["openSqliteStores"],
      "gatehouse/stores/memory": ["MemoryPairingStore", "MemorySessionBindingStore", "openMemoryStores"],
      "gatehouse/channels": ["telegramChannel", "discordChannel", "slackChannel", "channelPlugin"],
      "gatehouse/channels/telegram": ["telegramChannel"],
      "gatehouse/channels/discord": ["discordChannel"],
      "gatehouse/channels/slack": ["slackChannel"],
      "gatehouse/auth": ["tokenAuth", "jwtAuth", "trustedProxyAuth", "chainAuth", "localSocketAuth", "mintToken"],
      "gatehouse/pairing": ["normalizeCode", "formatCode", "generateRawCode", "CODE_ALPHABET"],
      "gatehouse/testing": ["describePairingStore", "describeSessionBindingStore", "STORE_RULES"],
    };
    for (const [specifier, names] of Object.entries(expected)) {
      const found = await namesOf(specifier);
      expect(found, specifier).toEqual(expect.arrayContaining(names));
      expect(
        (found as string[]).filter((name) => INTERNALS.includes(name)),
        specifier,
      ).toEqual([]);
    }
  }, 60_000);

  it("internal files cannot be imported by path", async () => {
    expect(await namesOf("gatehouse/dist/gateway/deadline.js")).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
    expect(await namesOf("gatehouse/gateway")).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("every error class in the catalogue carries its stable code", async () => {
    const script = `const m = await import("gatehouse");
      const rows = Object.entries(m.ERROR_CODES).map(([code, { error }]) => [code, error, typeof m[error] === "function" ? Object.create(m[error].prototype).constructor.name : null]);
      const instances = { PairingInputError: new m.PairingInputError("field", "is bad"), PairingLimitError: new m.PairingLimitError("telegram", 5), StoreUnavailableError: new m.StoreUnavailableError("redis") };
      console.log(JSON.stringify({ rows, codes: Object.fromEntries(Object.entries(instances).map(([k, v]) => [k, v.code])) }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: folder });
    const { rows, codes } = JSON.parse(stdout) as {
      rows: [string, string, string | null][];
      codes: Record<string, string>;
    };
    for (const [code, error, exported] of rows) expect(exported, `${code}: ${error} is exported`).toBe(error);
    expect(codes).toEqual({
      PairingInputError: "GH_ERR_PAIRING_INPUT",
      PairingLimitError: "GH_ERR_PAIRING_LIMIT",
      StoreUnavailableError: "GH_ERR_STORE_UNAVAILABLE",
    });
  });
});
