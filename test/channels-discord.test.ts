import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { ChannelHandlers } from "../src/channels/channel.js";
import {
  DiscordAdapter,
  DiscordInteractionsEndpoint,
  discordCustomId,
  discordPublicKey,
  parseDiscordCustomId,
  verifyDiscordSignature,
} from "../src/channels/discord/index.js";
import { channelPlugin } from "../src/channels/router.js";
import type { ChannelPlugin } from "../src/core/context.js";
import { InMemoryChatAdapter, testClock, testGateway, type TestGateway } from "./channels-context.js";
import {
  expectButtonRefusals,
  expectDenyFlow,
  type PressPlace,
  type RefusalDriver,
} from "./support/channel-refusals.js";
import { until } from "./support/until.js";

function keypair(): { publicHex: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { publicHex: Buffer.from(String(jwk.x), "base64url").toString("hex"), privateKey };
}

function signed(privateKey: KeyObject, body: string, timestamp: string): { signature: string; timestamp: string } {
  return { signature: sign(null, Buffer.from(timestamp + body), privateKey).toString("hex"), timestamp };
}

const NOW = Date.UTC(2026, 0, 1, 12);
const TS = String(Math.floor(NOW / 1000));

describe("discord interaction signatures (Ed25519, real keypair)", () => {
  const { publicHex, privateKey } = keypair();
  const key = discordPublicKey(publicHex);
  const body = JSON.stringify({ type: 1 });

  it("accepts a valid signature", () => {
    expect(verifyDiscordSignature(key, { ...signed(privateKey, body, TS), body, now: NOW })).toEqual({ ok: true });
  });

  it("refuses an altered body, another key, an altered timestamp", () => {
    const sig = signed(privateKey, body, TS);
    expect(verifyDiscordSignature(key, { ...sig, body: JSON.stringify({ type: 2 }), now: NOW })).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    const other = keypair();
    expect(verifyDiscordSignature(key, { ...signed(other.privateKey, body, TS), body, now: NOW }).ok).toBe(false);
    expect(verifyDiscordSignature(discordPublicKey(other.publicHex), { ...sig, body, now: NOW }).ok).toBe(false);
    expect(
      verifyDiscordSignature(key, { signature: sig.signature, timestamp: String(Number(TS) + 1), body, now: NOW }).ok,
    ).toBe(false);
  });

  it("refuses stale or future timestamps even when correctly signed", () => {
    for (const offset of [-301, 301, -86_400]) {
      const ts = String(Number(TS) + offset);
      expect(verifyDiscordSignature(key, { ...signed(privateKey, body, ts), body, now: NOW })).toEqual({
        ok: false,
        reason: "stale",
      });
    }
  });

  it("refuses missing or malformed headers without throwing, and rejects a malformed public key clearly", () => {
    const sig = signed(privateKey, body, TS);
    expect(verifyDiscordSignature(key, { signature: undefined, timestamp: TS, body, now: NOW })).toEqual({
      ok: false,
      reason: "missing-headers",
    });
    expect(verifyDiscordSignature(key, { signature: sig.signature.slice(2), timestamp: TS, body, now: NOW }).ok).toBe(
      false,
    );
    expect(verifyDiscordSignature(key, { signature: sig.signature, timestamp: "soon", body, now: NOW }).ok).toBe(false);
    expect(() => discordPublicKey("abc")).toThrow(/publicKey must be 64 hex/);
  });

  it("custom ids carry the action and token and nothing else parses", () => {
    const token = "A".repeat(38);
    expect(discordCustomId("approve", token).length).toBeLessThanOrEqual(100);
    expect(parseDiscordCustomId(discordCustomId("deny", token))).toEqual({ action: "deny", token });
    expect(parseDiscordCustomId("other:approve:x")).toBeNull();
    expect(parseDiscordCustomId(undefined)).toBeNull();
  });

  it("the adapter needs a token from the environment and names the variable", () => {
    expect(() => new DiscordAdapter({ tokenEnv: "GATEHOUSE_TEST_NO_DISCORD" })).toThrow(/GATEHOUSE_TEST_NO_DISCORD/);
  });
});

/**
 * A Discord-shaped in-test adapter: messages and cards through the public channel contract in memory (DM channels are
 * `dm-<userId>`), button presses through the real signed HTTP interactions endpoint.
 */
class DiscordShapedAdapter extends InMemoryChatAdapter {
  constructor(readonly endpoint: DiscordInteractionsEndpoint) {
    super("discord");
  }
  override async start(handlers: ChannelHandlers): Promise<void> {
    await super.start(handlers);
    await this.endpoint.start(handlers);
  }
  override async stop(): Promise<void> {
    await this.endpoint.stop();
    await super.stop();
  }
  override directChatIdFor(userId: string): string {
    return `dm-${userId}`;
  }
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const OWNER = "300000000000000001";
const USER = "400000000000000002";
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

async function startDiscord(): Promise<{
  gw: TestGateway;
  adapter: DiscordShapedAdapter;
  url: string;
  privateKey: KeyObject;
  plugin: ChannelPlugin;
  clock: ReturnType<typeof testClock>;
}> {
  const { publicHex, privateKey } = keypair();
  const clock = testClock(Date.now());
  const gw = await testGateway({ clock, policy: { ownerUserIds: [`discord:${OWNER}`] } });
  const adapter = new DiscordShapedAdapter(new DiscordInteractionsEndpoint({ publicKey: publicHex, port: 0 }));
  const plugin = channelPlugin(adapter, { now: clock.now });
  await plugin.start(gw.ctx);
  cleanup.push(
    () => gw.close(),
    () => plugin.stop(),
  );
  return {
    gw,
    adapter,
    plugin,
    privateKey,
    clock,
    url: `http://127.0.0.1:${adapter.endpoint.address()!.port}/discord/interactions`,
  };
}

function buttonInteraction(
  customId: string,
  presser: string,
  channel: { id: string; type: number },
  guildId?: string,
): string {
  return JSON.stringify({
    id: "1",
    application_id: "2",
    type: 3,
    token: "interaction-token",
    version: 1,
    ...(guildId
      ? { guild_id: guildId, member: { user: { id: presser, username: "p" } } }
      : { user: { id: presser, username: "p" } }),
    channel_id: channel.id,
    channel,
    message: { id: "3", content: "Access request on discord" },
    data: { custom_id: customId, component_type: 2 },
  });
}

async function post(
  url: string,
  privateKey: KeyObject,
  body: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-signature-ed25519": signed(privateKey, body, timestamp).signature,
      "x-signature-timestamp": timestamp,
    },
    body,
  });
  return {
    status: res.status,
    json:
      res.status === 200
        ? ((await res.json()) as { type: number; data?: { content: string; components?: unknown[]; flags?: number } })
        : null,
  };
}

describe("discord flow: router + signed HTTP interactions endpoint", () => {
  it("unknown user -> code -> owner card -> signed Approve interaction -> user told -> messages reach the agent", async () => {
    const { gw, adapter, url, privateKey } = await startDiscord();
    await adapter.deliver(USER, "hello discord", `dm-${USER}`, "Bob");
    expect(adapter.textsTo(`dm-${USER}`)[0]).toMatch(CODE);
    expect(adapter.cards).toHaveLength(1);
    const { approveToken } = adapter.cards[0]!.request;
    const ownerDm = { id: `dm-${OWNER}`, type: 1 };

    expect((await post(url, privateKey, JSON.stringify({ type: 1 }))).json).toEqual({ type: 1 });
    const approve = buttonInteraction(discordCustomId("approve", approveToken), OWNER, ownerDm);
    expect((await post(url, keypair().privateKey, approve)).status).toBe(401);
    expect((await post(url, privateKey, approve, String(Math.floor(Date.now() / 1000) - 3600))).status).toBe(401);
    expect(await gw.stores.pairing.isPaired(USER, "discord")).toBe(false);

    const done = await post(url, privateKey, approve);
    expect(done.json).toMatchObject({ type: 7, data: { components: [], content: expect.stringMatching(/Approved/) } });
    await until(() => adapter.textsTo(`dm-${USER}`).includes("echo: hello discord"), "the first message's reply");

    await adapter.deliver(USER, "more", `dm-${USER}`, "Bob");
    expect(adapter.textsTo(`dm-${USER}`).at(-1)).toBe("echo: more");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual([`discord:dm-${USER}:${USER}`, `discord:dm-${USER}:${USER}`]);
  });

  it("deny through the endpoint: the user is told politely", async () => {
    const { gw, adapter, url, privateKey } = await startDiscord();
    await adapter.deliver(USER, "hi", `dm-${USER}`);
    const ownerDm = { id: `dm-${OWNER}`, type: 1 };
    const denied = await post(
      url,
      privateKey,
      buttonInteraction(discordCustomId("deny", adapter.cards[0]!.request.denyToken), OWNER, ownerDm),
    );
    expect(denied.json).toMatchObject({ type: 7, data: { content: expect.stringMatching(/Denied/) } });
    await until(() => adapter.textsTo(`dm-${USER}`).some((t) => /declined/.test(t)), "the deny notice");
    expect(await gw.stores.pairing.isPaired(USER, "discord")).toBe(false);
    expect(gw.agentCalls).toHaveLength(0);
  });

  it("an expired Approve button is refused and changes nothing", async () => {
    const { gw, adapter, url, privateKey, clock } = await startDiscord();
    await adapter.deliver(USER, "hi", `dm-${USER}`);
    clock.advance(61 * 60_000);
    const late = await post(
      url,
      privateKey,
      buttonInteraction(discordCustomId("approve", adapter.cards[0]!.request.approveToken), OWNER, {
        id: `dm-${OWNER}`,
        type: 1,
      }),
    );
    expect(late.json).toMatchObject({ type: 7, data: { content: expect.stringMatching(/expired/) } });
    expect(await gw.stores.pairing.isPaired(USER, "discord")).toBe(false);
  });

  it("a flood of 20 messages from one unknown sender: one code, one owner DM", async () => {
    const { gw, adapter } = await startDiscord();
    await Promise.all(Array.from({ length: 20 }, (_, i) => adapter.deliver(USER, `spam ${i}`, `dm-${USER}`)));
    expect(adapter.cards).toHaveLength(1);
    expect(new Set(adapter.textsTo(`dm-${USER}`).map((t) => CODE.exec(t)?.[0])).size).toBe(1);
    expect(gw.agentCalls).toHaveLength(0);
  });
});

const OTHER_USER = "500000000000000003";
const EPHEMERAL = 64;

/**
 * Drives the shared refusal table through the interactions endpoint. Every press is correctly Ed25519-signed over the
 * exact body sent, altered custom ids included, so it is the button token check that must refuse forgeries.
 */
function discordDriver({
  gw,
  adapter,
  url,
  privateKey,
  clock,
}: Awaited<ReturnType<typeof startDiscord>>): RefusalDriver {
  const places: Record<PressPlace, (presser: string) => { channel: { id: string; type: number }; guildId?: string }> = {
    "own-dm": (presser) => ({ channel: { id: `dm-${presser}`, type: 1 } }),
    group: () => ({ channel: { id: "guild-chan", type: 0 }, guildId: "G1" }),
    "other-dm": () => ({ channel: { id: `dm-${OTHER_USER}`, type: 1 } }),
  };
  const textsTo = (userId: string) => adapter.textsTo(`dm-${userId}`);
  const write = (userId: string, text: string) => adapter.deliver(userId, text, `dm-${userId}`, "Bob");
  return {
    channelType: "discord",
    owner: OWNER,
    gw,
    clock,
    reportsAction: true,
    write,
    textsTo,
    async requestAccess(userId, text) {
      const cardsBefore = adapter.cards.length;
      await write(userId, text);
      expect(adapter.cards).toHaveLength(cardsBefore + 1);
      const { code, approveToken, denyToken } = adapter.cards.at(-1)!.request;
      expect(textsTo(userId).at(-1)).toContain(code);
      return { code, approve: approveToken, deny: denyToken };
    },
    async press(token, presser, where, action = "approve") {
      const { channel, guildId } = places[where](presser);
      const { status, json } = await post(
        url,
        privateKey,
        buttonInteraction(discordCustomId(action, token), presser, channel, guildId),
      );
      expect(status).toBe(200);
      // Either an ephemeral reply only the presser sees, or the card itself updated without its buttons.
      if (json?.type === 4) expect(json.data?.flags).toBe(EPHEMERAL);
      else expect(json).toMatchObject({ type: 7, data: { components: [] } });
      return String(json?.data?.content);
    },
  };
}

describe("discord button refusals and deny (shared table, signed interactions)", () => {
  it("forged, altered, mismatched, expired, non-owner, other-chat and replayed presses are refused visibly and change nothing", async () => {
    await expectButtonRefusals(discordDriver(await startDiscord()), USER);
  });

  it("a custom id that is not ours, validly signed, is refused ephemerally and changes nothing", async () => {
    const started = await startDiscord();
    const { gw, adapter, url, privateKey } = started;
    await adapter.deliver(USER, "hi", `dm-${USER}`);
    const { approveToken } = adapter.cards[0]!.request;
    const pending = await gw.stores.pairing.listPending("discord");
    for (const customId of [
      `other:approve:${approveToken}`,
      discordCustomId("approve", approveToken).slice(0, -1),
      "x".repeat(100),
    ]) {
      const { json } = await post(url, privateKey, buttonInteraction(customId, OWNER, { id: `dm-${OWNER}`, type: 1 }));
      expect(json).toEqual({
        type: 4,
        data: { content: "This button is not valid. Nothing was changed.", flags: EPHEMERAL },
      });
    }
    expect(await gw.stores.pairing.listPending("discord")).toEqual(pending);
    expect(await gw.stores.pairing.isPaired(USER, "discord")).toBe(false);
  });

  it("Deny through the shared flow: the owner sees it, the user is told politely and is on cooldown", async () => {
    await expectDenyFlow(discordDriver(await startDiscord()), USER);
  });
});
