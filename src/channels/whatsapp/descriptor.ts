import { z } from "zod";
import { channelBase, envName, httpUrl, nonEmpty } from "../../config/fields.js";
import { tokenFromEnv } from "../channel.js";
import { defineChannel, definedOnly, sectionToken } from "../descriptor.js";
import { WHATSAPP_CAPABILITIES, WhatsAppAdapter } from "./adapter.js";
import { probeWhatsApp } from "./probe.js";

const schema = z.strictObject({
  ...channelBase,
  /** The numeric id of the business phone number (WhatsApp Manager > API setup), not the number itself. */
  phoneNumberId: z.string().regex(/^\d+$/, "must be the numeric phone number id"),
  /** Environment variables holding the app secret and the webhook verify token (never put them in the file). */
  appSecretEnv: envName.optional(),
  verifyTokenEnv: envName.optional(),
  /** Graph API root and version; point them at a local emulator in tests. */
  apiBaseUrl: httpUrl.optional(),
  apiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/, "must look like v21.0")
    .optional(),
  /** Webhook path on the gateway's HTTP server. */
  webhookPath: z
    .string()
    .regex(/^\/(?!api\/)[A-Za-z0-9/_-]*$/, "must be a path like /whatsapp/webhook, not under /api/")
    .optional(),
  /** Approved template sent to an owner whose 24-hour window is closed, instead of the card Meta refuses. */
  template: z
    .strictObject({
      name: nonEmpty,
      language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, "must be a code like en_US"),
    })
    .optional(),
});

/** WhatsApp (Cloud API): Meta's webhook on the gateway's HTTP server, sending through the Graph API. */
export const whatsappDescriptor = defineChannel({
  type: "whatsapp",
  schema,
  capabilities: WHATSAPP_CAPABILITIES,
  async create(section, env) {
    return new WhatsAppAdapter({
      ...secretsOf(section, env),
      phoneNumberId: section.phoneNumberId,
      ...definedOnly({
        apiBaseUrl: section.apiBaseUrl,
        apiVersion: section.apiVersion,
        webhookPath: section.webhookPath,
        template: section.template,
      }),
    });
  },
  async probe(section, env, { timeoutMs }) {
    let secrets: ReturnType<typeof secretsOf>;
    try {
      secrets = secretsOf(section, env);
    } catch (error) {
      return { ok: false, problem: (error as Error).message };
    }
    return probeWhatsApp(
      {
        ...secrets,
        phoneNumberId: section.phoneNumberId,
        apiBaseUrl: section.apiBaseUrl,
        apiVersion: section.apiVersion,
      },
      timeoutMs,
    );
  },
});

/** The access token, app secret and verify token, each from its environment variable (or the inline token). */
function secretsOf(
  section: z.infer<typeof schema>,
  env: NodeJS.ProcessEnv,
): { accessToken: string; appSecret: string; verifyToken: string } {
  return {
    accessToken: sectionToken(section, "WHATSAPP_ACCESS_TOKEN", "whatsapp", env),
    appSecret: tokenFromEnv(section.appSecretEnv ?? "WHATSAPP_APP_SECRET", "whatsapp", env),
    verifyToken: tokenFromEnv(section.verifyTokenEnv ?? "WHATSAPP_VERIFY_TOKEN", "whatsapp", env),
  };
}
