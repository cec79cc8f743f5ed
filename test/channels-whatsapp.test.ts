import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import type { WhatsAppAdapterOptions } from "../src/channels/whatsapp/index.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import type { Agent } from "../src/core/context.js";
import type { AuthProtocol } from "../src/protocols/types.js";
import { connectWithToken, fixedTokenAuth, OWNER_TOKEN, type TestSocket } from "./gateway-helpers.js";
import { testClock, testGateway, type TestClock, type TestGateway } from "./channels-context.js";
import { expectButtonRefusals, expectDenyFlow, type RefusalDriver } from "./support/channel-refusals.js";
import { LocalWhatsAppCloud, wamid } from "./whatsapp-cloud-api.js";
import { until } from "./support/until.js";
import {
  ACCESS_TOKEN,
  APP_SECRET,
  PHONE_ID,
  startLocalCloud,
  testWhatsAppAdapter,
  VERIFY_TOKEN,
} from "./support/whatsapp-channel.js";

const OWNER = "15550001111";
const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;

interface Harness {
  cloud: LocalWhatsAppCloud;
  gw: TestGateway;
  gateway: Gateway;
  clock: TestClock;
  url: string;
}

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

async function start(
  options: {
    adapter?: Partial<WhatsAppAdapterOptions>;
    agent?: Agent;
    storeUrl?: string;
    gw?: TestGateway;
    auth?: AuthProtocol;
  } = {},
): Promise<Harness> {
  const clock = testClock(Date.now());
  const { cloud, apiBaseUrl } = await startLocalCloud(running);
  const gw =
    options.gw ??
    (await testGateway({
      clock,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.storeUrl ? { storeUrl: options.storeUrl } : {}),
    }));
  if (!options.gw) running.push(() => gw.close());
  const adapter = testWhatsAppAdapter(apiBaseUrl, options.adapter);
  const gateway = createGateway({
    auth: options.auth ?? gw.ctx.auth,
    pairingStore: gw.stores.pairing,
    sessionBinding: gw.stores.sessions,
    seenStore: gw.stores.seen!,
    agent: gw.ctx.agent,
    secret: gw.ctx.secret,
    logger: gw.ctx.logger,
    http: { port: 0 },
    channels: [channelPlugin(adapter, { ownerUserIds: [OWNER], now: clock.now })],
  });
  await gateway.start();
  running.push(() => gateway.stop());
  cloud.webhookUrl = `${gateway.url}/whatsapp/webhook`;
  return { cloud, gw, gateway, clock, url: gateway.url };
}

/** The stranger writes; resolves once they have a code and the owner has the card. */
async function requestAccess(h: Harness, waId: string, text: string) {
  h.cloud.openWindow(OWNER);
  const sentBefore = h.cloud.cardsTo(OWNER).length;
  await h.cloud.userWrites(waId, "Alice", text);
  await until(
    () => h.cloud.cardsTo(OWNER).length > sentBefore && h.cloud.textsTo(waId).length > 0,
    "the code and the card",
  );
  const card = h.cloud.cardsTo(OWNER).at(-1)!;
  const code = CODE.exec(h.cloud.textsTo(waId)[0]!)![0];
  const [approve, deny] = card.body.interactive.action.buttons.map((b: { reply: { id: string } }) => b.reply.id) as [
    string,
    string,
  ];
  return { card, code, approve, deny };
}

function driver(h: Harness): RefusalDriver {
  return {
    channelType: "whatsapp",
    owner: OWNER,
    gw: h.gw,
    clock: h.clock,
    reportsAction: true,
    places: ["own-dm"],
    write: async (userId, text) => void (await h.cloud.userWrites(userId, "", text)),
    // Answers to presses are replies to the press; what the requester is told otherwise is a plain message.
    textsTo: (userId) => h.cloud.textsTo(userId, "plain"),
    requestAccess: (userId, text) => requestAccess(h, userId, text),
    async press(token, presser, _where, action = "approve") {
      const before = h.cloud.textsTo(presser, "replies").length;
      expect(await h.cloud.userPresses(presser, token, action === "approve" ? "Approve" : "Deny")).toBe(200);
      await until(() => h.cloud.textsTo(presser, "replies").length > before, "the answer to the press");
      return h.cloud.textsTo(presser, "replies").at(-1)!;
    },
  };
}

describe("whatsapp webhook on the gateway's HTTP server", () => {
  it("answers Meta's verification handshake only for the configured verify token", async () => {
    const { url } = await start();
    const get = (query: string) =>
      fetch(`${url}/whatsapp/webhook?${query}`).then(async (r) => ({ status: r.status, text: await r.text() }));
    expect(await get(`hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`)).toEqual({
      status: 200,
      text: "1158201444",
    });
    expect((await get("hub.mode=subscribe&hub.verify_token=wrong-token-0123456789&hub.challenge=1")).status).toBe(403);
    expect((await get(`hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status).toBe(403);
    expect((await get(`hub.mode=subscribe&hub.challenge=1`)).status).toBe(403);
  });

  it("refuses unsigned, wrongly signed and tampered notifications, and they change nothing", async () => {
    const h = await start();
    const payload = h.cloud.notification({
      contacts: [{ profile: { name: "Mallory" }, wa_id: "15559990000" }],
      messages: [
        { from: "15559990000", id: wamid(), timestamp: "1700000000", type: "text", text: { body: "let me in" } },
      ],
    });
    expect(await h.cloud.deliver(payload, null)).toBe(401);
    expect(await h.cloud.deliver(payload, `sha256=${"0".repeat(64)}`)).toBe(401);
    expect(await h.cloud.deliver(payload, "sha1=abc")).toBe(401);
    const other = new LocalWhatsAppCloud(PHONE_ID, ACCESS_TOKEN, "another-app-secret-0123456789");
    other.webhookUrl = h.cloud.webhookUrl;
    expect(await other.deliver(payload)).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.cloud.calls).toBe(0);
    expect(await h.gw.stores.pairing.listPending("whatsapp")).toEqual([]);
    expect(h.gw.agentCalls).toHaveLength(0);
  });

  it("stranger -> code; owner card with reply buttons -> Approve -> requester told, first message replayed", async () => {
    const h = await start();
    const { card, code, approve, deny } = await requestAccess(h, "15552223333", "hello *bot*");
    const buttons = card.body.interactive.action.buttons as Array<{ reply: { id: string; title: string } }>;
    expect(buttons.map((b) => b.reply.title)).toEqual(["Approve", "Deny"]);
    for (const id of [approve, deny]) expect(Buffer.byteLength(id)).toBeLessThanOrEqual(64);
    expect(String(card.body.interactive.body.text)).toContain(code);
    expect(h.gw.agentCalls.filter((c) => c.userId === "15552223333")).toHaveLength(0);
    // What the requester wrote is quoted inertly: no formatting markers of theirs take effect, no extra lines.
    expect(String(card.body.interactive.body.text)).toContain("First message: ```hello *bot*```");

    expect(await driver(h).press(approve, OWNER, "own-dm", "approve")).toMatch(/^Approved/);
    await until(() => h.cloud.textsTo("15552223333").includes("echo: hello *bot*"), "the replayed first message");
    expect(h.cloud.textsTo("15552223333")).toContain(
      "Good news: the owner approved you. You can talk to the assistant now.",
    );
    await h.cloud.userWrites("15552223333", "Alice", "second");
    await until(() => h.cloud.textsTo("15552223333").includes("echo: second"), "a normal reply");
  });

  it("quotes a hostile name and first message inertly in the owner's card", async () => {
    const h = await start();
    h.cloud.openWindow(OWNER);
    await h.cloud.userWrites("15550009999", "*Admin*\nCode: AAAA-BBBB", "visit evil.example/login\nApprove now");
    await until(() => h.cloud.cardsTo(OWNER).length === 1, "the card");
    const text = String(h.cloud.cardsTo(OWNER)[0]!.body.interactive.body.text);
    expect(text.split("\n").filter((line) => line.startsWith("Code:"))).toHaveLength(1);
    expect(text).not.toContain("evil.example");
    expect(text).toContain("From: ```*Admin* Code: AAAA-BBBB```");
  });

  it("handles a redelivered message once, even across two gateways on one store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-wa-"));
    running.push(async () => rmSync(dir, { recursive: true, force: true }));
    const h = await start({ storeUrl: `sqlite:${join(dir, "gatehouse.db")}` });
    const second = await start({ gw: h.gw });
    const id = wamid();
    await h.cloud.userWrites(OWNER, "Owner", "one", id);
    second.cloud.webhookUrl = h.cloud.webhookUrl.replace(h.url, second.url);
    const payload = h.cloud.notification({
      contacts: [{ profile: { name: "Owner" }, wa_id: OWNER }],
      messages: [{ from: OWNER, id, timestamp: "1700000000", type: "text", text: { body: "one" } }],
    });
    h.cloud.webhookUrl = second.cloud.webhookUrl;
    expect(await h.cloud.deliver(payload)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.gw.agentCalls.filter((c) => c.text === "one")).toHaveLength(1);
  });

  it("ignores status callbacks (sent, delivered, read)", async () => {
    const h = await start();
    for (const status of ["sent", "delivered", "read"])
      expect(await h.cloud.deliver(h.cloud.status(wamid(), OWNER, status))).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.cloud.calls).toBe(0);
  });
});

describe("whatsapp sending through the Graph API", () => {
  it("splits long replies into messages of at most 4096 characters without cutting a character", async () => {
    // The odd first character puts a surrogate pair across every 4096-unit boundary.
    const long = `a${"😀".repeat(3000)}${"x".repeat(3000)}`;
    const h = await start({ agent: async () => long });
    await h.cloud.userWrites(OWNER, "Owner", "long please");
    await until(() => h.cloud.textsTo(OWNER).join("").length >= long.length, "every part");
    const parts = h.cloud.textsTo(OWNER);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect([...part].length).toBeLessThanOrEqual(4096);
    expect(parts.join("")).toBe(long);
  });

  it("retries 429 and transient 5xx with backoff, and gives up on other errors without logging the token", async () => {
    const h = await start();
    h.cloud.failNext(2, { status: 429, code: 130429, message: "(#130429) Rate limit hit" });
    h.cloud.failNext(1, { status: 503, code: 131016, message: "(#131016) Service unavailable" });
    await h.cloud.userWrites(OWNER, "Owner", "after the storm");
    await until(() => h.cloud.textsTo(OWNER).includes("echo: after the storm"), "the reply after retries");
    expect(h.cloud.calls).toBe(4);

    h.cloud.failNext(1, { status: 401, code: 190, message: "Invalid OAuth access token - Cannot parse access token" });
    const before = h.cloud.calls;
    await h.cloud.userWrites(OWNER, "Owner", "token trouble");
    await until(() => h.gw.logs.some((l) => l.includes("code 190")), "the logged refusal");
    expect(h.cloud.calls).toBe(before + 1);
    const logs = h.gw.logs.join("\n");
    for (const secret of [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, "token trouble"]) expect(logs).not.toContain(secret);
  });
});

describe("whatsapp pairing", () => {
  it("refuses forged, altered, mismatched, expired and non-owner presses; Approve works once", async () => {
    await expectButtonRefusals(driver(await start()), "15554445555");
  });

  it("Deny tells the requester and records the decision", async () => {
    await expectDenyFlow(driver(await start()), "15556667777");
  });

  it("/pair CODE redeems an owner's invite", async () => {
    const h = await start();
    const invite = await h.gw.stores.pairing.generateCode("whatsapp");
    await h.cloud.userWrites("15558889999", "Bob", `/pair ${invite}`);
    await until(() => h.cloud.textsTo("15558889999").length > 0, "the answer");
    expect(h.cloud.textsTo("15558889999")[0]).toMatch(/Welcome/);
    expect(await h.gw.stores.pairing.isPaired("15558889999", "whatsapp")).toBe(true);
  });

  it.each(["async", "sync"] as const)(
    "a card outside the owner's 24-hour window (131047, %s) is logged, shown, and replaced by the template",
    async (mode) => {
      const h = await start({
        adapter: { template: { name: "access_request", language: "en_US" } },
        auth: fixedTokenAuth(),
      });
      h.cloud.windowFailure = mode;
      const notices: unknown[] = [];
      h.gateway.events.on("channel.notice", (notice) => notices.push(notice));
      const console: TestSocket = (await connectWithToken(`${h.url.replace(/^http/, "ws")}/ws`, OWNER_TOKEN)).socket;
      running.push(async () => void console.ws.terminate());
      await h.cloud.userWrites("15551112222", "Carol", "hello");
      await until(() => h.cloud.sent.some((m) => m.type === "template" && m.to === OWNER), "the template to the owner");
      const template = h.cloud.sent.find((m) => m.type === "template")!;
      expect(template.body.template).toEqual({ name: "access_request", language: { code: "en_US" } });
      expect(h.gw.logs.some((l) => l.includes("24-hour") && l.includes("131047"))).toBe(true);
      expect(notices).toHaveLength(1);
      // The owner's console socket hears it too (the console announces channel.notice events).
      const frame = await console.next((f) => f.type === "event" && f.event === "channel.notice");
      expect(frame.payload).toMatchObject({ channelType: "whatsapp", error: 131047, fallback: "template" });
      expect(h.cloud.cardsTo(OWNER)).toHaveLength(0);
    },
  );
});
