import { WhatsAppAdapter, type WhatsAppAdapterOptions } from "../../src/channels/whatsapp/index.js";
import { LocalWhatsAppCloud } from "../whatsapp-cloud-api.js";

/** The business number and credentials the WhatsApp tests share with the local Cloud API stand-in. */
export const PHONE_ID = "106540352242922";
export const ACCESS_TOKEN = "EAAG-local-whatsapp-access-token-0123456789";
export const APP_SECRET = "local-app-secret-0123456789abcdef";
export const VERIFY_TOKEN = "local-verify-token-0123456789";

/** The local Cloud API stand-in, listening; `running` gets the step that closes it. */
export async function startLocalCloud(
  running: Array<() => Promise<void>>,
): Promise<{ cloud: LocalWhatsAppCloud; apiBaseUrl: string }> {
  const cloud = new LocalWhatsAppCloud(PHONE_ID, ACCESS_TOKEN, APP_SECRET);
  const apiBaseUrl = await cloud.listen();
  running.push(() => cloud.close());
  return { cloud, apiBaseUrl };
}

/** The WhatsApp adapter with the test credentials against the stand-in at `apiBaseUrl`, retrying sends after 5 ms. */
export function testWhatsAppAdapter(
  apiBaseUrl: string,
  options: Partial<WhatsAppAdapterOptions> = {},
): WhatsAppAdapter {
  return new WhatsAppAdapter({
    phoneNumberId: PHONE_ID,
    accessToken: ACCESS_TOKEN,
    appSecret: APP_SECRET,
    verifyToken: VERIFY_TOKEN,
    apiBaseUrl,
    apiVersion: "v21.0",
    backoffMs: 5,
    ...options,
  });
}
