import { z } from "zod";
import { channelBase, httpUrl, nonEmpty, port } from "../../config/fields.js";
import { defineChannel, definedOnly, sectionToken } from "../descriptor.js";
import { probeToken } from "../probe-request.js";
import { DiscordAdapter, DISCORD_CAPABILITIES } from "./adapter.js";
import { probeDiscord } from "./probe.js";

const schema = z.looseObject({
  ...channelBase,
  applicationId: nonEmpty.optional(),
  /** The application's public key (hex): button presses then arrive on an HTTP interactions endpoint. */
  publicKey: nonEmpty.optional(),
  interactionsPort: port.optional(),
  /** REST API root (default https://discord.com/api); the gateway address comes from its GET /gateway/bot. */
  apiRoot: httpUrl.optional(),
});

/** Discord (discord.js): the gateway connection, message-component buttons. */
export const discordDescriptor = defineChannel({
  type: "discord",
  schema,
  capabilities: DISCORD_CAPABILITIES,
  async create(section, env) {
    return new DiscordAdapter({
      token: sectionToken(section, "DISCORD_BOT_TOKEN", "discord", env),
      ...definedOnly({ apiRoot: section.apiRoot }),
      ...(section.publicKey
        ? { interactions: { publicKey: section.publicKey, ...definedOnly({ port: section.interactionsPort }) } }
        : {}),
    });
  },
  async probe(section, env, { timeoutMs }) {
    const read = probeToken(() => sectionToken(section, "DISCORD_BOT_TOKEN", "discord", env));
    return "token" in read ? probeDiscord(read.token, section.apiRoot, timeoutMs) : read;
  },
});
