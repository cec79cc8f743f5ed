/**
 * One owner per Discord gateway connection: two gateways on one shared SQLite store, both with the same bot, against the
 * local Discord (gateway + REST) through the real discord.js client. Only the lease holder identifies on the gateway;
 * when it stops, the other connects within the lease time, and every DM is answered exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { discordChannel } from "../src/channels/discord/index.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { DiscordEmulator } from "./support/discord-emulator.js";
import { captureLogger } from "./gateway-helpers.js";
import { until } from "./support/until.js";

const TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.local_discord_lease_token_abcdefghijk";
const ALICE = "900000000000000042";
const LEASE_MS = 1_500;
const SECRET = Buffer.alloc(32, 5);

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

describe("discord gateway connection under a lease", () => {
  it("only the holder connects; when it stops the other takes over, and each DM is answered once", async () => {
    const discord = new DiscordEmulator(TOKEN);
    const apiRoot = await discord.listen();
    discord.addUser({ id: ALICE, username: "alice" });
    const dir = mkdtempSync(join(tmpdir(), "gh-discord-lease-"));
    cleanups.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => discord.close(),
    );
    const gateway = (): Gateway => {
      const gw = createGateway({
        store: `sqlite:${join(dir, "gatehouse.db")}`,
        secret: SECRET,
        dataDir: dir,
        logger: captureLogger(),
        http: { port: 0 },
        policy: { unknownUserPolicy: "allow" },
        leases: { ttlMs: LEASE_MS },
        channels: [discordChannel({ token: TOKEN, apiRoot })],
      });
      cleanups.push(() => gw.stop());
      return gw;
    };
    const [a, b] = [gateway(), gateway()];
    await Promise.all([a.start(), b.start()]);
    await until(() => discord.identified === 1, "one gateway connection", 20_000);
    // A few lease periods later still one: the other instance stands by.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    expect(discord.identified).toBe(1);
    const replies = () => discord.messagesIn(discord.dmOf(ALICE)).map((m) => String(m.content));
    discord.userWrites(ALICE, "first");
    await until(() => replies().includes("echo: first"), "the reply", 20_000);

    const holder = (await a.context.leases!.store.current((await a.context.leases!.store.live("discord:"))[0]!.name))!
      .holder;
    const [stopping, staying] = holder === a.context.leases!.instanceId ? [a, b] : [b, a];
    await stopping.stop();
    await until(() => discord.identified === 2, "the other instance to connect", LEASE_MS * 4 + 10_000);
    expect((await staying.context.leases!.store.live("discord:"))[0]?.holder).toBe(staying.context.leases!.instanceId);
    discord.userWrites(ALICE, "second");
    await until(() => replies().includes("echo: second"), "the reply after the takeover", 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replies().filter((r) => r === "echo: first")).toHaveLength(1);
    expect(replies().filter((r) => r === "echo: second")).toHaveLength(1);
  }, 120_000);
});
