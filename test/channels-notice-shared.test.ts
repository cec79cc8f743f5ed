/**
 * A channel's notice (here WhatsApp refusing an owner card outside the 24-hour window, 131047) seen by one gateway
 * instance reaches the owner's console on every instance sharing the store: it goes through the store's feed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { channelPlugin } from "../src/channels/router.js";
import { createGateway, type Gateway } from "../src/gateway/index.js";
import { captureLogger, connectWithToken, fixedTokenAuth, OWNER_TOKEN, SECRET } from "./gateway-helpers.js";
import { backendsOfThisFile } from "./support/backends.js";
import { startLocalCloud, testWhatsAppAdapter } from "./support/whatsapp-channel.js";

const OWNER = "15550001111";

const backends = await backendsOfThisFile();
const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

async function instance(store: string, apiBaseUrl: string): Promise<Gateway> {
  const adapter = testWhatsAppAdapter(apiBaseUrl, { template: { name: "access_request", language: "en_US" } });
  const gateway = createGateway({
    auth: fixedTokenAuth(),
    store,
    secret: SECRET,
    logger: captureLogger(),
    http: { port: 0 },
    channels: [channelPlugin(adapter, { ownerUserIds: [OWNER] })],
  });
  await gateway.start();
  running.push(() => gateway.stop());
  return gateway;
}

describe.each(backends.filter((b) => b.shared))("a channel notice on one instance, over $name", (backend) => {
  it.skipIf(!backend.available)("reaches the owner's console connected to the other instance", async () => {
    const { cloud, apiBaseUrl } = await startLocalCloud(running);
    const store = backend.freshUrl();
    const a = await instance(store, apiBaseUrl);
    const b = await instance(store, apiBaseUrl);
    const onB = (await connectWithToken(`${b.url.replace(/^http/, "ws")}/ws`, OWNER_TOKEN)).socket;
    running.push(async () => void onB.ws.terminate());

    // WhatsApp delivers the stranger's message to A; the owner's card is refused there (131047).
    cloud.webhookUrl = `${a.url}/whatsapp/webhook`;
    cloud.windowFailure = "sync";
    await cloud.userWrites("15551112222", "Carol", "hello");
    const frame = await onB.next((f) => f.type === "event" && f.event === "channel.notice", 15_000);
    expect(frame.payload).toMatchObject({ channelType: "whatsapp", error: 131047, fallback: "template" });
    // Recorded once in the shared audit log, with no message text.
    const notices = (await a.context.pairing.audit!({ type: "channel-notice" })).events;
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices)).not.toContain("hello");
  });
});
