import { z } from "zod";
import { channelBase, envName, httpUrl, nonEmpty, port } from "../../config/fields.js";
import { tokenFromEnv } from "../channel.js";
import { defineChannel, definedOnly, sectionToken } from "../descriptor.js";
import { TelegramAdapter, TELEGRAM_CAPABILITIES } from "./adapter.js";
import { probeToken } from "../probe-request.js";
import { probeTelegram } from "./probe.js";

const schema = z.looseObject({
  ...channelBase,
  /** Bot API root, e.g. a local Bot API server. */
  apiRoot: httpUrl.optional(),
  webhook: z
    .looseObject({
      url: z.url({ protocol: /^https$/ }),
      secretEnv: envName.optional(),
      path: z.string().startsWith("/").optional(),
      host: nonEmpty.optional(),
      port: port.optional(),
    })
    .optional(),
});

/** Telegram (grammY): long polling, or a webhook when `webhook.url` is set. */
export const telegramDescriptor = defineChannel({
  type: "telegram",
  schema,
  capabilities: TELEGRAM_CAPABILITIES,
  async create(section, env) {
    const webhook = section.webhook;
    return new TelegramAdapter({
      token: sectionToken(section, "TELEGRAM_BOT_TOKEN", "telegram", env),
      ...definedOnly({ apiRoot: section.apiRoot }),
      ...(webhook
        ? {
            mode: "webhook" as const,
            webhook: {
              secretToken: tokenFromEnv(webhook.secretEnv ?? "TELEGRAM_WEBHOOK_SECRET", "telegram", env),
              publicUrl: webhook.url,
              ...definedOnly({ path: webhook.path, host: webhook.host, port: webhook.port }),
            },
          }
        : {}),
    });
  },
  async probe(section, env, { timeoutMs }) {
    const read = probeToken(() => sectionToken(section, "TELEGRAM_BOT_TOKEN", "telegram", env));
    return "token" in read ? probeTelegram(read.token, section.apiRoot, timeoutMs) : read;
  },
});
