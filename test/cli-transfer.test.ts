/**
 * gatehouse export / import / migrate, and taking over PraisonAI's and OpenClaw's approved senders: through the CLI
 * (a child process), on real stores. Every ordered pair of the shared backends is migrated both ways and checked.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../src/auth/token.js";
import { loadGatewaySecret } from "../src/pairing/secret.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { cliWorkspace, runGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { allBackends, type Backend } from "./support/backends.js";

/** Every built-in backend's pairing store has restore(): times, approvers and history move exactly. */
const RESTORES = new Set(["memory", "sqlite", "redis", "postgres", "mariadb"]);

let ws: CliWorkspace;
let backends: Backend[];
const opened: Stores[] = [];

beforeAll(async () => {
  ws = cliWorkspace();
  backends = (await allBackends()).filter((b) => b.shared);
  for (const b of backends)
    if (!b.available) throw new Error(`${b.name} is not reachable: the migration round trips cannot run`);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  for (const b of backends ?? []) await b.cleanup();
  ws?.cleanup();
});

async function open(url: string): Promise<Stores> {
  const stores = await openStores(url, { secret: loadGatewaySecret(ws.dataDir, {}) });
  opened.push(stores);
  return stores;
}

/** `gatehouse import <args> --store <url> --data-dir <workspace>`. */
function importInto(url: string, ...args: string[]): ReturnType<typeof runGatehouse> {
  return runGatehouse(["import", ...args, "--store", url, "--data-dir", ws.dataDir]);
}

const SENDERS = [
  { channelType: "telegram", channelId: "1001", name: "Ada" },
  { channelType: "discord", channelId: "222333444555666777", name: "Grace" },
  { channelType: "slack", channelId: "U0ABCDEF", name: "Émile \u{1F600}" },
];

/** A source store with three pairings, one revoked sender (history only) and one API token. */
async function seed(url: string): Promise<{ token: string }> {
  const stores = await open(url);
  for (const s of SENDERS) {
    const code = await stores.pairing.generateCode(s.channelType, s.channelId, {
      userName: s.name,
      firstMessage: "hello",
    });
    expect(await stores.pairing.approve(s.channelType, code, "", "", { approvedBy: "owner:alice" })).toBe(true);
  }
  const gone = await stores.pairing.generateCode("telegram", "999");
  await stores.pairing.approve("telegram", gone);
  await stores.pairing.revoke("999", "telegram");
  const token = `gh_${"a".repeat(43)}`;
  await stores.tokens?.insert({
    id: "tok_migrated1",
    hash: hashToken(token),
    role: "admin",
    userId: "alice",
    label: "ci",
    createdAt: 1_700_000_000_000,
  });
  return { token };
}

describe("gatehouse migrate --from URL --to URL", () => {
  const pairs: Array<[string, string]> = [];
  for (const from of ["sqlite", "redis", "postgres", "mariadb"]) {
    for (const to of ["sqlite", "redis", "postgres", "mariadb"]) if (from !== to) pairs.push([from, to]);
  }

  it.each(pairs)(
    "%s -> %s keeps every pairing, token and (where the target restores) times and history",
    async (from, to) => {
      const source = backends.find((b) => b.name === from) as Backend;
      const target = backends.find((b) => b.name === to) as Backend;
      const fromUrl = source.freshUrl();
      const toUrl = target.freshUrl();
      const { token } = await seed(fromUrl);
      const before = await (await open(fromUrl)).pairing.listPaired();

      const run = await runGatehouse(["migrate", "--from", fromUrl, "--to", toUrl, "--data-dir", ws.dataDir, "--json"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout) as {
        paired: { added: number };
        tokens: { added: number };
        method: string;
      };
      expect(summary.paired.added).toBe(3);
      expect(summary.tokens.added).toBe(1);

      const moved = await open(toUrl);
      for (const s of SENDERS) expect(await moved.pairing.isPaired(s.channelId, s.channelType)).toBe(true);
      expect(await moved.pairing.isPaired("999", "telegram")).toBe(false);
      const record = await moved.tokens?.findByHash(hashToken(token));
      expect(record).toMatchObject({ id: "tok_migrated1", role: "admin", userId: "alice" });

      const after = await moved.pairing.listPaired();
      const view = (list: typeof before) => list.map((p) => [p.channelType, p.channelId, p.label].join("|")).sort();
      expect(view(after)).toEqual(view(before));
      if (RESTORES.has(to)) {
        expect(summary.method).toBe("restore");
        expect(after.map((p) => [p.channelId, p.pairedAt, p.approvedBy]).sort()).toEqual(
          before.map((p) => [p.channelId, p.pairedAt, p.approvedBy]).sort(),
        );
        const history = (await moved.pairing.audit({ limit: 100 })).events;
        expect(history.filter((e) => e.type === "revoked").map((e) => e.channelId)).toEqual(["999"]);
        expect(history.every((e) => typeof e.detail.restored === "string")).toBe(true);
      }

      // Run again (from one source to every target, to keep the file quick): nothing is added twice.
      if (from !== "sqlite") return;
      const again = await runGatehouse([
        "migrate",
        "--from",
        fromUrl,
        "--to",
        toUrl,
        "--data-dir",
        ws.dataDir,
        "--json",
      ]);
      expect(again.code).toBe(0);
      const second = JSON.parse(again.stdout) as {
        paired: { added: number };
        tokens: { added: number };
        audit: { added: number };
      };
      expect([second.paired.added, second.tokens.added, second.audit.added]).toEqual([0, 0, 0]);
    },
  );

  it("refuses a target store first opened with another gateway secret, naming it, and writes nothing", async () => {
    const redis = backends.find((b) => b.name === "redis") as Backend;
    const fromUrl = (backends.find((b) => b.name === "sqlite") as Backend).freshUrl();
    const toUrl = redis.freshUrl();
    await seed(fromUrl);
    const other = cliWorkspace();
    try {
      const foreign = await openStores(toUrl, { secret: loadGatewaySecret(other.dataDir, {}) });
      await foreign.close();
      const run = await runGatehouse(["migrate", "--from", fromUrl, "--to", toUrl, "--data-dir", ws.dataDir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/secret/i);
      const check = await openStores(toUrl, { secret: loadGatewaySecret(other.dataDir, {}) });
      opened.push(check);
      expect(await check.pairing.listPaired()).toEqual([]);
    } finally {
      other.cleanup();
    }
  });
});

describe("gatehouse export and import", () => {
  it("round-trips through a file: export, import elsewhere, import again changes nothing", async () => {
    const fromUrl = (backends.find((b) => b.name === "sqlite") as Backend).freshUrl();
    const toUrl = (backends.find((b) => b.name === "redis") as Backend).freshUrl();
    await seed(fromUrl);
    const file = join(ws.dataDir, "export.jsonl");
    const exported = await runGatehouse(["export", "--store", fromUrl, "--data-dir", ws.dataDir, "--out", file]);
    expect(exported.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: "gatehouse-export", version: 1, source: "sqlite" });
    expect(lines.filter((l) => l.type === "paired")).toHaveLength(3);
    expect(JSON.stringify(lines)).not.toContain(`gh_${"a".repeat(43)}`);

    const first = await runGatehouse(["import", file, "--store", toUrl, "--data-dir", ws.dataDir, "--json"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ paired: { added: 3 }, tokens: { added: 1 } });
    const second = await runGatehouse(["import", file, "--store", toUrl, "--data-dir", ws.dataDir, "--json"]);
    expect(JSON.parse(second.stdout)).toMatchObject({
      paired: { added: 0, present: 3 },
      tokens: { added: 0, present: 1 },
      audit: { added: 0 },
    });
  });

  it("refuses a bad line with its number and what was wrong, and changes nothing", async () => {
    const toUrl = (backends.find((b) => b.name === "sqlite") as Backend).freshUrl();
    const file = join(ws.dataDir, "bad.jsonl");
    const lines = [
      { format: "gatehouse-export", version: 1, source: "sqlite", exportedAt: 1 },
      { type: "paired", channelType: "telegram", channelId: "1", label: "ok", pairedAt: 5 },
      { type: "paired", channelType: "tele gram", channelId: "2", label: "bad", pairedAt: 5 },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n"));
    const run = await importInto(toUrl, file);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/line 3: channelType/);
    expect(run.stderr).toMatch(/nothing was imported/);
    expect(await (await open(toUrl)).pairing.isPaired("1", "telegram")).toBe(false);

    writeFileSync(file, JSON.stringify({ type: "paired" }));
    const noHeader = await importInto(toUrl, file);
    expect(noHeader.code).toBe(1);
    expect(noHeader.stderr).toMatch(/line 1: the first line must be a gatehouse-export version 1 header/);
  });
});

describe("switching from a peer", () => {
  it("gatehouse import praisonai <dir> takes PraisonAI's paired channels, refusing unknown channel types unless told", async () => {
    const dir = join(ws.dataDir, "praisonai");
    mkdirSync(dir, { recursive: true });
    // PraisonAI's PairingStore._save(): {"paired": [asdict(PairedChannel)]}, paired_at in epoch seconds.
    writeFileSync(
      join(dir, "pairing.json"),
      JSON.stringify(
        {
          paired: [
            { channel_id: "424242", channel_type: "telegram", paired_at: 1_700_000_000.25, label: "Ada" },
            { channel_id: "C0123", channel_type: "slack", paired_at: 1_700_000_100, label: "" },
            { channel_id: "browser-1", channel_type: "ui", paired_at: 1_700_000_200, label: "web" },
          ],
        },
        null,
        2,
      ),
    );
    const url = (backends.find((b) => b.name === "mariadb") as Backend).freshUrl();
    const refused = await importInto(url, "praisonai", dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/paired\[2\]: channel type "ui" is not a gatehouse channel/);
    expect(await (await open(url)).pairing.listPaired()).toEqual([]);

    const dry = await importInto(url, "praisonai", dir, "--skip-unknown", "--dry-run");
    expect(dry.stdout).toMatch(/Would import 2 pairings/);
    expect(await (await open(url)).pairing.listPaired()).toEqual([]);

    const run = await importInto(url, "praisonai", dir, "--skip-unknown");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Left out: .*"ui"/);
    const paired = await (await open(url)).pairing.listPaired();
    expect(paired.map((p) => [p.channelType, p.channelId, p.label, p.pairedAt, p.approvedBy])).toEqual([
      ["telegram", "424242", "Ada", 1_700_000_000_250, "praisonai"],
      ["slack", "C0123", "C0123", 1_700_000_100_000, "praisonai"],
    ]);
  });

  it("gatehouse import openclaw <dir> takes every <channel>-allowFrom.json, per account too", async () => {
    const dir = join(ws.dataDir, "openclaw-credentials");
    mkdirSync(dir, { recursive: true });
    // OpenClaw's AllowFromStore (src/pairing/pairing-store.ts): {"version": 1, "allowFrom": [...]}.
    writeFileSync(
      join(dir, "telegram-allowFrom.json"),
      JSON.stringify({ version: 1, allowFrom: ["111", "tg:222", "*"] }),
    );
    writeFileSync(
      join(dir, "whatsapp-work-allowFrom.json"),
      JSON.stringify({ version: 1, allowFrom: ["+14155550123"] }),
    );
    writeFileSync(join(dir, "telegram-pairing.json"), JSON.stringify({ version: 1, requests: [] }));
    writeFileSync(join(dir, "signal-allowFrom.json"), JSON.stringify({ version: 1, allowFrom: ["+1555"] }));
    const url = (backends.find((b) => b.name === "sqlite") as Backend).freshUrl();

    const refused = await importInto(url, "openclaw", dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/signal-allowFrom\.json: channel "signal" is not a gatehouse channel/);

    const run = await importInto(url, "openclaw", dir, "--skip-unknown");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/"\*" lets everyone in/);
    const stores = await open(url);
    expect(
      await stores.pairing.isPairedMany([
        { channelType: "telegram", channelId: "111" },
        { channelType: "telegram", channelId: "222" },
        { channelType: "whatsapp", channelId: "14155550123" },
        { channelType: "telegram", channelId: "*" },
      ]),
    ).toEqual([true, true, true, false]);
    const labels = (await stores.pairing.listPaired()).map((p) => p.label);
    expect(labels).toContain("14155550123 (OpenClaw account work)");
  });
});
