/**
 * Two gateway instances (each its own store connection, router and Slack adapter on its own port) over one shared store:
 * the owner-card-per-hour limit, the reminder limit, and "you're in" with the replay of the first message are decided
 * in the store, so the two behave as one gateway (issue 15 item 1). Slack's real client (Bolt) talks to the local Web API.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MESSAGES } from "../src/channels/messages.js";
import { testClock, type TestClock, type TestGateway } from "./channels-context.js";
import { backendsOfThisFile } from "./support/backends.js";
import { BOT_TOKEN, messageEvent, postSigned } from "./support/slack-events.js";
import { LocalSlackApi } from "./support/slack-web-api.js";
import { startSlackInstance } from "./support/slack-channel.js";
import { until } from "./support/until.js";

const backends = await backendsOfThisFile();

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const OWNER = "UOWNER";
const JSON_TYPE = "application/json";
const HOUR = 60 * 60_000;
/** Generous under load (15 s), never a speed requirement. */
const WAIT = 15_000;

interface Instance {
  gw: TestGateway;
  url: string;
}

/** One gateway instance on the shared store URL and secret, with the test's clock for stores and router. */
function instance(apiUrl: string, storeUrl: string, secret: Buffer, clock: TestClock): Promise<Instance> {
  // A card window longer than a request's life, so a second request inside it is the case the limit is for.
  const router = { ownerDmIntervalMs: 2 * HOUR, reminderIntervalMs: HOUR };
  return startSlackInstance(cleanup, { apiUrl, storeUrl, secret, clock, router });
}

async function pair(backendUrl: string): Promise<{ api: LocalSlackApi; a: Instance; b: Instance; clock: TestClock }> {
  const api = new LocalSlackApi(BOT_TOKEN);
  const apiUrl = await api.listen();
  cleanup.push(() => api.close());
  const secret = Buffer.alloc(32, 11);
  const clock = testClock(Date.now());
  const [a, b] = [await instance(apiUrl, backendUrl, secret, clock), await instance(apiUrl, backendUrl, secret, clock)];
  return { api, a, b, clock };
}

/** Owner cards about `sender` that Slack accepted (posted to the owner's user id, naming the sender's id). */
function cardsAbout(api: LocalSlackApi, sender: string): number {
  return api.posts(OWNER).filter((p) => String(p.text ?? "").includes(sender)).length;
}

function textsTo(api: LocalSlackApi, sender: string): string[] {
  return api.posts(`D${sender}`).map((p) => String(p.text ?? ""));
}

async function say(instance: Instance, sender: string, text: string): Promise<void> {
  expect(await postSigned(instance.url, messageEvent(sender, text), JSON_TYPE)).toBe(200);
}

describe.each(backends.filter((b) => b.shared))(
  "limits and once-only notices across two instances on $name",
  (backend) => {
    it.skipIf(!backend.available)(
      "one owner card per sender per window and one reminder per window, whichever instance the sender reaches",
      async () => {
        const { api, a, b, clock } = await pair(backend.freshUrl());
        const sender = `USHARED${backend.name.toUpperCase()}`;
        const codeMessages = (): number =>
          textsTo(api, sender).filter((t) => t.includes("Your request code is")).length;
        await say(a, sender, "hello there");
        await until(() => cardsAbout(api, sender) === 1 && codeMessages() === 1, "the first owner card and code", WAIT);

        // The request outlives its hour; a new one through B falls inside the owner-card window that A opened.
        clock.advance(HOUR + 60_000);
        await say(b, sender, "still me");
        await until(() => codeMessages() === 2, "B's code message for the new request", WAIT);
        // Through A again, inside the reminder window B's new request opened: no reminder. A `/pair` after it goes
        // through the same per-sender queue on A, so its answer means the message before it was handled.
        const before = textsTo(api, sender).length;
        await say(a, sender, "anyone there?");
        await say(a, sender, "/pair AAAA-BBBB");
        await until(() => textsTo(api, sender).length > before, "A's answer to /pair", WAIT);
        // A different sender through B still gets the owners a card: the limit is per sender.
        const other = `UOTHER${backend.name.toUpperCase()}`;
        await say(b, other, "hi");
        await until(() => cardsAbout(api, other) === 1, "the other sender's card", WAIT);

        expect(cardsAbout(api, sender)).toBe(1);
        expect(textsTo(api, sender).filter((t) => t.includes("is still waiting for the owner"))).toEqual([]);
      },
    );

    it.skipIf(!backend.available)(
      "an approval tells the sender once and replays their first message once, though both instances hear it",
      async () => {
        const { api, a, b } = await pair(backend.freshUrl());
        const sender = `UAPPROVED${backend.name.toUpperCase()}`;
        await say(a, sender, "my first words");
        await until(() => cardsAbout(api, sender) === 1, "the owner card", WAIT);
        const pending = await b.gw.stores.pairing.pendingFor(sender, "slack");
        expect(pending?.firstMessage).toBe("my first words");
        expect(
          await b.gw.stores.pairing.approve("slack", pending!.code, undefined, undefined, { approvedBy: "owner" }),
        ).toBe(true);

        const approvedNotices = (): number =>
          textsTo(api, sender).filter((t) => t === DEFAULT_MESSAGES.approved()).length;
        const quiet = (gw: TestGateway): boolean =>
          gw.logs.some((l) => l.includes("decision already told by another instance"));
        // Both instances have acted once the loser says so (or, without the shared decision, both told the sender).
        await until(
          () => approvedNotices() >= 2 || quiet(a.gw) || quiet(b.gw),
          "both instances to handle the approval",
          WAIT,
        );
        await until(
          () => textsTo(api, sender).includes("echo: my first words"),
          "the replayed first message's answer",
          WAIT,
        );
        expect(approvedNotices()).toBe(1);
        expect(a.gw.agentCalls.length + b.gw.agentCalls.length).toBe(1);
        expect(textsTo(api, sender).filter((t) => t === "echo: my first words")).toHaveLength(1);

        // A denial is told once too.
        const denied = `UDENIED${backend.name.toUpperCase()}`;
        await say(b, denied, "let me in");
        await until(() => cardsAbout(api, denied) === 1, "the denied sender's card", WAIT);
        const request = await a.gw.stores.pairing.pendingFor(denied, "slack");
        expect(await a.gw.stores.pairing.deny("slack", request!.code, { deniedBy: "owner" })).toBe(true);
        const deniedNotices = (): number => textsTo(api, denied).filter((t) => t === DEFAULT_MESSAGES.denied()).length;
        const loserLines = (): number =>
          [...a.gw.logs, ...b.gw.logs].filter((l) => l.includes("decision already told by another instance")).length;
        await until(
          () => deniedNotices() >= 2 || (deniedNotices() === 1 && loserLines() >= 2),
          "both instances to handle the denial",
          WAIT,
        );
        expect(deniedNotices()).toBe(1);
      },
    );
  },
);
