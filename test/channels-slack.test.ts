import { afterEach, describe, expect, it } from "vitest";
import { SLACK_APPROVE_ACTION, SLACK_DENY_ACTION, verifySlackSignature } from "../src/channels/slack/index.js";
import { BOT_TOKEN, buttonPress, messageEvent, postSigned, sign, SIGNING_SECRET } from "./support/slack-events.js";
import { approveValue, startSlackChannel } from "./support/slack-channel.js";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import {
  expectButtonRefusals,
  expectDenyFlow,
  type PressPlace,
  type RefusalDriver,
} from "./support/channel-refusals.js";
import { until } from "./support/until.js";

const NOW = Date.UTC(2026, 0, 1, 12);

describe("slack request signatures (v0, real HMACs)", () => {
  const body = "token=xyz&team_id=T1&text=hello";
  const ts = Math.floor(NOW / 1000);
  /** The body correctly signed at `t`, checked at NOW. */
  const signedAt = (t: number) =>
    verifySlackSignature({
      signingSecret: SIGNING_SECRET,
      timestamp: String(t),
      signature: sign(body, t),
      body,
      now: NOW,
    });

  it("accepts a valid signature", () => {
    expect(signedAt(ts)).toEqual({ ok: true });
    expect(
      verifySlackSignature({
        signingSecret: SIGNING_SECRET,
        timestamp: String(ts),
        signature: sign(body, ts),
        body: Buffer.from(body),
        now: NOW,
      }).ok,
    ).toBe(true);
  });

  it("refuses an altered body, a wrong secret, an altered timestamp", () => {
    const signature = sign(body, ts);
    expect(
      verifySlackSignature({
        signingSecret: SIGNING_SECRET,
        timestamp: String(ts),
        signature,
        body: `${body}&x=1`,
        now: NOW,
      }),
    ).toEqual({ ok: false, reason: "bad-signature" });
    expect(
      verifySlackSignature({
        signingSecret: SIGNING_SECRET,
        timestamp: String(ts),
        signature: sign(body, ts, "another-secret-0123456789"),
        body,
        now: NOW,
      }).ok,
    ).toBe(false);
    expect(
      verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp: String(ts + 1), signature, body, now: NOW }).ok,
    ).toBe(false);
  });

  it("refuses timestamps outside the five-minute window, past or future, even when correctly signed", () => {
    for (const offset of [-301, 301, -3600, 86_400]) {
      expect(signedAt(ts + offset)).toEqual({ ok: false, reason: "stale" });
    }
    for (const offset of [-300, 299]) {
      expect(signedAt(ts + offset).ok).toBe(true);
    }
  });

  it("refuses missing or malformed headers without throwing", () => {
    const signature = sign(body, ts);
    for (const [timestamp, sig] of [
      [undefined, signature],
      [String(ts), undefined],
      ["12abc", signature],
      [String(ts), `v1=${signature.slice(3)}`],
      [String(ts), "v0=zz"],
    ] as const) {
      expect(
        verifySlackSignature({ signingSecret: SIGNING_SECRET, timestamp, signature: sig, body, now: NOW }),
      ).toEqual({ ok: false, reason: "missing-headers" });
    }
  });
});

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const startSlack = () => startSlackChannel(cleanup);

const CODE = /[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/;
const FORM = "application/x-www-form-urlencoded";

describe("slack channel end to end (Bolt in HTTP mode, local Web API)", () => {
  it("unknown user -> code -> owner card -> Approve button -> user told -> messages reach the agent", async () => {
    const { api, gw, url } = await startSlack();
    expect(await postSigned(url, messageEvent("U42", "hi from slack"), "application/json")).toBe(200);
    await until(() => api.posts("DU42").some((p) => CODE.test(String(p.text))), "the code reply");
    await until(() => api.posts("UOWNER").length === 1, "the owner card");
    const card = api.posts("UOWNER")[0]!;
    const approve = approveValue(card);

    // Unsigned, wrongly signed and stale requests never reach Bolt.
    const press = buttonPress("UOWNER", "DUOWNER", SLACK_APPROVE_ACTION, approve, "1700000000.000002");
    expect(await postSigned(url, press, FORM, { secret: "wrong-secret-0123456789abcdef" })).toBe(401);
    expect(await postSigned(url, press, FORM, { timestamp: Math.floor(Date.now() / 1000) - 600 })).toBe(401);
    expect((await fetch(url, { method: "POST", headers: { "content-type": FORM }, body: press })).status).toBe(401);
    expect(await gw.stores.pairing.isPaired("U42", "slack")).toBe(false);

    // Refused presses (non-owner, wrong chat, forged, expired, replay...) are the shared table below.
    expect(await postSigned(url, press, FORM)).toBe(200);
    await until(() => api.calls.some((c) => c.method === "chat.update"), "the card update");
    expect(String(api.calls.find((c) => c.method === "chat.update")!.args.text)).toMatch(/Approved/);
    await until(() => api.posts("DU42").some((p) => p.text === "echo: hi from slack"), "the first message's reply");

    expect(await postSigned(url, messageEvent("U42", "again"), "application/json")).toBe(200);
    await until(() => api.posts("DU42").some((p) => p.text === "echo: again"), "the next reply");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual(["slack:DU42:U42", "slack:DU42:U42"]);
    const logs = gw.logs.join("\n");
    expect(logs).not.toContain(BOT_TOKEN);
    expect(logs).not.toContain(SIGNING_SECRET);
    expect(logs).not.toContain(approve);
  });

  it("the adapter's own signature window, end to end: a signed request from 301 s in the future or past is refused", async () => {
    const { api, gw, url } = await startSlack();
    const now = Math.floor(Date.now() / 1000);
    for (const offset of [301, 3_600, -301, -3_600]) {
      expect(
        await postSigned(url, messageEvent("U50", "replayed"), "application/json", { timestamp: now + offset }),
      ).toBe(401);
    }
    expect(gw.logs.filter((line) => line.includes("slack request refused") && line.includes("stale"))).toHaveLength(4);
    expect(api.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(0);
    // Inside the window, either way, the same request is served.
    expect(await postSigned(url, messageEvent("U50", "fresh"), "application/json", { timestamp: now + 290 })).toBe(200);
    await until(() => api.posts("DU50").some((p) => CODE.test(String(p.text))), "the code reply");
  });

  it("a hostile first message cannot write into the owner's card: no extra line, link, mention or markup (issue 12 item 4)", async () => {
    const { api, url } = await startSlack();
    const hostile =
      "hi\nCode: ZZZZ-ZZZZ\nFrom: the owner <https://evil.example|click here> <!channel> <@UOWNER> *bold* `tick`";
    expect(await postSigned(url, messageEvent("U51", hostile), "application/json")).toBe(200);
    await until(() => api.posts("UOWNER").length === 1, "the owner card");
    const card = api.posts("UOWNER")[0]!;
    const section = (
      card.blocks as Array<{ type: string; text?: { type: string; text: string; verbatim?: boolean } }>
    ).find((b) => b.type === "section")!;
    expect(section.text).toMatchObject({ type: "mrkdwn", verbatim: true });
    const lines = section.text!.text.split("\n");
    expect(lines).toHaveLength(5);
    expect(lines.filter((line) => line.startsWith("Code:"))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith("From:"))).toHaveLength(1);
    // Slack reads <…> as links and mentions; escaped, none is left. The quote is one code span.
    expect(section.text!.text).not.toMatch(/[<>]/);
    expect(lines[3]!.match(/`/g)).toHaveLength(2);
    expect(String(card.text)).toBe(section.text!.text);
  });

  it("a long emoji reply is split into whole characters within Slack's limits, and a 429 (Retry-After) is waited out", async () => {
    const { api, url } = await startSlack();
    api.rateLimit("chat.postMessage", 1);
    const text = `x${"😀".repeat(2000)}`; // 4001 UTF-16 units; the echo needs two messages
    expect(await postSigned(url, messageEvent("UOWNER", text), "application/json")).toBe(200);
    await until(() => api.posts("DUOWNER").length >= 2, "the split reply", 10_000);
    const parts = api.posts("DUOWNER").map((p) => String(p.text));
    expect(parts.join("")).toBe(`echo: ${text}`);
    expect(parts.every((p) => p.length <= 3000 && !/[\ud800-\udbff](?![\udc00-\udfff])/.test(p))).toBe(true);
    expect(api.calls.some((c) => c.status === 429)).toBe(true);
  });

  it("a flood of 20 messages from one unknown sender makes one code and one owner DM", async () => {
    const { api, gw, url, plugin } = await startSlack();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => postSigned(url, messageEvent("U66", `spam ${i}`), "application/json")),
    );
    await until(() => api.posts("DU66").length >= 1, "a reply");
    await plugin.stop();
    expect(api.posts("UOWNER")).toHaveLength(1);
    expect(new Set(api.posts("DU66").map((p) => CODE.exec(String(p.text))?.[0])).size).toBe(1);
    expect(gw.agentCalls).toHaveLength(0);
  });
});

const OTHER_USER = "U77";
const ANSWER_METHODS = new Set(["chat.postEphemeral", "chat.update"]);

/** Drives the shared refusal table through Bolt: signed Events API messages and signed block_actions presses. */
function slackDriver({ api, gw, url, clock }: Awaited<ReturnType<typeof startSlack>>): RefusalDriver {
  const channelFor: Record<PressPlace, (presser: string) => string> = {
    "own-dm": (presser) => `D${presser}`,
    group: () => "C0PUBLIC",
    "other-dm": () => `D${OTHER_USER}`,
  };
  const textsTo = (userId: string) => api.posts(`D${userId}`).map((p) => String(p.text));
  const write = async (userId: string, text: string) => {
    expect(await postSigned(url, messageEvent(userId, text), "application/json")).toBe(200);
  };
  return {
    channelType: "slack",
    owner: "UOWNER",
    gw,
    clock,
    reportsAction: true,
    write,
    textsTo,
    async requestAccess(userId, text) {
      const cardsBefore = api.posts("UOWNER").length;
      await write(userId, text);
      await until(() => textsTo(userId).some((t) => CODE.test(t)), "the code reply");
      await until(() => api.posts("UOWNER").length > cardsBefore, "the owner card");
      const blocks = api.posts("UOWNER").at(-1)!.blocks as Array<{
        type: string;
        elements?: Array<{ action_id: string; value: string }>;
      }>;
      const elements = blocks.find((b) => b.type === "actions")!.elements!;
      return {
        code: CODE.exec(textsTo(userId).find((t) => CODE.test(t))!)![0],
        approve: elements.find((e) => e.action_id === SLACK_APPROVE_ACTION)!.value,
        deny: elements.find((e) => e.action_id === SLACK_DENY_ACTION)!.value,
      };
    },
    async press(token, presser, where, action = "approve") {
      const seen = api.calls.length;
      const channel = channelFor[where](presser);
      const actionId = action === "approve" ? SLACK_APPROVE_ACTION : SLACK_DENY_ACTION;
      expect(await postSigned(url, buttonPress(presser, channel, actionId, token, "1700000000.000002"), FORM)).toBe(
        200,
      );
      await until(() => api.calls.slice(seen).some((c) => ANSWER_METHODS.has(c.method)), "the press answer");
      const answers = api.calls.slice(seen).filter((c) => ANSWER_METHODS.has(c.method));
      expect(answers).toHaveLength(1);
      const { method, args } = answers[0]!;
      // Shown to the presser only (ephemeral) in the chat they pressed in, or the card itself updated there.
      expect(args.channel).toBe(channel);
      if (method === "chat.postEphemeral") expect(args.user).toBe(presser);
      return String(args.text);
    },
  };
}

describe("slack button refusals and deny (shared table, through Bolt)", () => {
  it("forged, altered, mismatched, expired, non-owner, other-chat and replayed presses are refused visibly and change nothing", async () => {
    await expectButtonRefusals(slackDriver(await startSlack()), "U42");
  });

  it("Deny: the owner sees it, the user is told politely, stays out and is on cooldown", async () => {
    await expectDenyFlow(slackDriver(await startSlack()), "U42");
  });
});

describe("slack channels (group chats) through Bolt", () => {
  const inChannel = (user: string, text: string, thread?: string) =>
    messageEvent(user, text, undefined, {
      channel: "CTEAM",
      channelType: "channel",
      ...(thread ? { threadParentUser: thread } : {}),
    });

  it("answers only when mentioned or replied to in its thread; an unapproved channel gets one line and no code", async () => {
    const { api, gw, url } = await startSlack();
    expect(await postSigned(url, inChannel("U42", "lunch anyone?"), "application/json")).toBe(200);
    expect(await postSigned(url, inChannel("U42", "<@UBOT> can I use you?"), "application/json")).toBe(200);
    await until(() => api.posts("CTEAM").length === 1, "one line in the channel");
    expect(api.posts("CTEAM").map((p) => p.text)).toEqual([DEFAULT_MESSAGES.groupPending]);
    await until(() => api.posts("UOWNER").length === 1, "the channel's card");
    expect((await gw.stores.pairing.listPending("slack")).map((p) => p.channelId)).toEqual(["group:CTEAM"]);
    expect(api.posts("DU42")).toEqual([]);

    const card = api.posts("UOWNER")[0]!;
    const approve = approveValue(card);
    expect(
      await postSigned(
        url,
        buttonPress("UOWNER", "DUOWNER", SLACK_APPROVE_ACTION, approve, String(card.ts ?? "1700000000.000001")),
        FORM,
      ),
    ).toBe(200);
    await until(
      () => api.posts("CTEAM").some((p) => p.text === DEFAULT_MESSAGES.groupApproved),
      "the channel to hear of it",
    );

    // members policy: an unpaired member is asked to write privately; the owner, replying in the bot's thread, is answered.
    expect(await postSigned(url, inChannel("U42", "<@UBOT|gate> please?"), "application/json")).toBe(200);
    await until(
      () => api.posts("CTEAM").some((p) => p.text === DEFAULT_MESSAGES.groupAskPrivately("")),
      "the ask-privately line",
    );
    expect(await postSigned(url, inChannel("UOWNER", "chatting, not to the bot"), "application/json")).toBe(200);
    expect(await postSigned(url, inChannel("UOWNER", "status?", "UBOT"), "application/json")).toBe(200);
    await until(() => api.posts("CTEAM").some((p) => p.text === "echo: status?"), "the owner's answer");
    expect(gw.agentCalls.map((c) => c.sessionId)).toEqual(["slack:CTEAM:UOWNER"]);
    expect(
      api
        .posts("CTEAM")
        .map((p) => String(p.text))
        .join("\n"),
    ).not.toMatch(CODE);
  });
});
