import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStores, SCHEMA_VERSION } from "../src/stores/sqlite/index.js";

const root = mkdtempSync(join(tmpdir(), "gh-sqlite-procs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const storeModule = fileURLToPath(new URL("../src/stores/sqlite/index.ts", import.meta.url));

/**
 * Runs `body` (JavaScript, top-level await allowed) in a fresh Node process with `openSqliteStores`, `file`, `secret`
 * and `startAt` in scope; resolves with what it printed.
 */
function child(body: string, vars: { file: string; secret: Buffer; startAt: number; id: number }): Promise<string> {
  const script = `
    const { openSqliteStores } = await import(${JSON.stringify(storeModule)});
    const file = ${JSON.stringify(vars.file)};
    const secret = Buffer.from(${JSON.stringify(vars.secret.toString("base64"))}, "base64");
    const id = ${vars.id};
    const wait = ${vars.startAt} - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    ${body}
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", script],
      { timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`child ${vars.id} failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

describe("sqlite store: several processes", () => {
  it("processes opening a new file at the same moment migrate it once, and agree on one request per sender", async () => {
    const file = join(root, "race", "new.db");
    const secret = randomBytes(32);
    const startAt = Date.now() + 2500;
    const body = `
      const stores = await openSqliteStores(file, { secret });
      const [own, shared] = await Promise.all([
        stores.pairing.generateCode("telegram", "sender-" + id),
        stores.pairing.generateCode("telegram", "everyone"),
      ]);
      await stores.close();
      process.stdout.write(JSON.stringify([own, shared]));
    `;
    const outputs = await Promise.all([0, 1, 2, 3].map((id) => child(body, { file, secret, startAt, id })));
    const pairs = outputs.map((output) => JSON.parse(output) as [string, string]);
    const codes = pairs.map(([own]) => own);
    // Every process asked for "everyone" at the same moment: one request, one code, whoever came first.
    expect(new Set(pairs.map(([, shared]) => shared)).size).toBe(1);
    expect(codes.every((code) => /^[A-Z2-9]{4}-[A-Z2-9]{4}$/.test(code))).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    const stores = await openSqliteStores(file, { secret });
    expect((await stores.pairing.listPending()).map((p) => p.channelId).sort()).toEqual([
      "everyone",
      "sender-0",
      "sender-1",
      "sender-2",
      "sender-3",
    ]);
    for (const code of codes) expect(await stores.pairing.approve("telegram", code)).toBe(true);
    await stores.close();
  }, 60_000);

  it("a process that subscribed and never closed still exits on its own (the poll timer is unref'ed)", async () => {
    const file = join(root, "exit", "g.db");
    const secret = randomBytes(32);
    const body = `
      const stores = await openSqliteStores(file, { secret });
      stores.pairing.subscribe(() => undefined);
      await stores.pairing.generateCode("telegram", "someone");
      process.stdout.write("done");
    `;
    await expect(child(body, { file, secret, startAt: 0, id: 0 })).resolves.toBe("done");
  }, 60_000);

  it("a subscriber in one process sees decisions made in another", async () => {
    const file = join(root, "events", "g.db");
    const secret = randomBytes(32);
    const stores = await openSqliteStores(file, { secret });
    const seen: string[] = [];
    const unsubscribe = stores.pairing.subscribe((event) => seen.push(`${event.type}:${event.channelId}`));
    try {
      const body = `
        const stores = await openSqliteStores(file, { secret });
        const code = await stores.pairing.generateCode("discord", "far-away");
        await stores.pairing.deny("discord", code, { deniedBy: "owner-2" });
        await stores.close();
      `;
      await child(body, { file, secret, startAt: 0, id: 0 });
      const deadline = Date.now() + 5000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual(["requested:far-away", "denied:far-away"]);
    } finally {
      unsubscribe();
      await stores.close();
    }
  }, 60_000);
});
