/**
 * An agent's action card on WhatsApp (the gateway's webhook against the local Cloud API stand-in): an agent asks over
 * HTTP, the owner gets an interactive reply-button card, Approve decides, and a reply quoting the card says who decided
 * (WhatsApp cannot edit a message). A forged token, a press by someone else and a replayed press change nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { captureLogger, fixedTokenAuth, OWNER_TOKEN, SECRET } from "./gateway-helpers.js";
import { type LocalWhatsAppCloud, wamid, type SentMessage } from "./whatsapp-cloud-api.js";
import { until } from "./support/until.js";
import { startLocalCloud, testWhatsAppAdapter } from "./support/whatsapp-channel.js";

const OWNER = "15550001111";
const ALICE = "15550002222";
const OWNER2 = "15550003333";
const AGENT_TOKEN = "agent-token-0123456789abcdef";

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

async function start(): Promise<{ cloud: LocalWhatsAppCloud; gateway: Gateway }> {
  const { cloud, apiBaseUrl } = await startLocalCloud(running);
  const adapter = testWhatsAppAdapter(apiBaseUrl);
  const gateway = createGateway({
    auth: fixedTokenAuth({
      [AGENT_TOKEN]: { userId: "agent-1", role: "agent" },
      [OWNER_TOKEN]: { userId: "alice", role: "owner" },
    }),
    store: "memory:",
    secret: SECRET,
    logger: captureLogger(),
    policy: { ownerUserIds: [`whatsapp:${OWNER}`, `whatsapp:${OWNER2}`] },
    channels: [channelPlugin(adapter)],
    http: { port: 0 },
  });
  await gateway.start();
  running.push(() => gateway.stop());
  cloud.webhookUrl = `${gateway.url}/whatsapp/webhook`;
  cloud.openWindow(OWNER);
  cloud.openWindow(OWNER2);
  return { cloud, gateway };
}

async function ask(gateway: Gateway, id: string): Promise<void> {
  const body = {
    request_id: id,
    tool_name: "deploy",
    arguments: { env: "*prod* https://evil.example\nyes" },
    risk_level: "high",
    agent_name: "ci",
    session_id: "s",
    context: {},
  };
  const post = await fetch(`${gateway.url}/api/approvals`, {
    method: "POST",
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(post.status).toBe(202);
}

async function status(gateway: Gateway, id: string): Promise<unknown> {
  return (
    await fetch(`${gateway.url}/api/approvals/${id}`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })
  ).json();
}

interface Card {
  message: SentMessage;
  approve: string;
  deny: string;
}

async function cardOf(cloud: LocalWhatsAppCloud, owner = OWNER): Promise<Card> {
  await until(() => cloud.cardsTo(owner).length === 1, "the action card");
  const message = cloud.cardsTo(owner)[0]!;
  const [approve, deny] = message.body.interactive.action.buttons.map((b: { reply: { id: string } }) => b.reply.id) as [
    string,
    string,
  ];
  return { message, approve, deny };
}

/** A press on the card; returns the reply quoting the press (the press's answer). */
async function press(
  cloud: LocalWhatsAppCloud,
  from: string,
  buttonId: string,
  title: string,
  card: Card,
): Promise<string> {
  const pressId = wamid();
  const answers = (): SentMessage[] =>
    cloud.sent.filter((m) => m.to === from && m.type === "text" && m.body.context?.message_id === pressId);
  expect(await cloud.userPresses(from, buttonId, title, card.message.id, pressId)).toBe(200);
  await until(() => answers().length === 1, "the press answer");
  return String(answers()[0]!.body.text.body);
}

/** Replies quoting the card itself (what replaces an edit on WhatsApp). */
const cardReplies = (cloud: LocalWhatsAppCloud, card: Card): string[] =>
  cloud.sent
    .filter((m) => m.type === "text" && m.body.context?.message_id === card.message.id)
    .map((m) => String(m.body.text.body));

describe("approvals on WhatsApp", () => {
  it("an owner approves from the card; a reply quoting the other owner's card says who decided", async () => {
    const { cloud, gateway } = await start();
    await ask(gateway, "wa-1");
    const card = await cardOf(cloud);
    const other = await cardOf(cloud, OWNER2);
    const lines = String(card.message.body.interactive.body.text).split("\n");
    expect(lines).toHaveLength(6);
    expect(lines.find((l) => l.startsWith("Arguments:"))).toMatch(/^Arguments: ```.*```$/);
    expect(lines.join("\n")).not.toContain("https://evil.example");
    expect(
      card.message.body.interactive.action.buttons.map((b: { reply: { title: string } }) => b.reply.title),
    ).toEqual(["Approve", "Deny"]);

    expect(await press(cloud, OWNER, card.approve, "Approve", card)).toBe("Approved: the agent may run deploy.");
    expect(await status(gateway, "wa-1")).toMatchObject({ approved: true, approver: `whatsapp:${OWNER}` });
    await until(() => cardReplies(cloud, other).length === 1, "the reply saying who decided");
    expect(cardReplies(cloud, other)[0]).toMatch(
      new RegExp(`^Approved by whatsapp:${OWNER}\\. \\(Ref: [A-Z2-9]{4}-[A-Z2-9]{4}\\)$`),
    );
    // The presser's own card gets no second reply: their press was answered already.
    expect(cardReplies(cloud, card)).toEqual([]);
  });

  it("a forged token, a press by someone else and a replayed press change nothing", async () => {
    const { cloud, gateway } = await start();
    await ask(gateway, "wa-2");
    const card = await cardOf(cloud);
    // forged: one character of the MAC changed
    const forged = card.approve.slice(0, -2) + (card.approve.at(-2) === "A" ? "B" : "A") + card.approve.at(-1);
    expect(await press(cloud, OWNER, forged, "Approve", card)).toBe("This button is not valid. Nothing was changed.");
    expect(await press(cloud, ALICE, card.approve, "Approve", card)).toBe(
      "Only the owner can approve or deny requests.",
    );
    expect(await status(gateway, "wa-2")).toEqual({ status: "pending" });

    expect(await press(cloud, OWNER, card.deny, "Deny", card)).toBe("Denied: the agent will not run deploy.");
    const handled = `Already decided. Denied by whatsapp:${OWNER}. Nothing was changed.`;
    expect(await press(cloud, OWNER, card.deny, "Deny", card)).toBe(handled);
    expect(await press(cloud, OWNER, card.approve, "Approve", card)).toBe(handled);
    expect(await status(gateway, "wa-2")).toEqual({
      approved: false,
      reason: `denied by whatsapp:${OWNER} on whatsapp`,
      approver: `whatsapp:${OWNER}`,
    });
  });
});
