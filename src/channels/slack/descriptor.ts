import { z } from "zod";
import { channelBase, envName, httpUrl, nonEmpty, port } from "../../config/fields.js";
import { tokenFromEnv } from "../channel.js";
import { defineChannel, definedOnly, sectionToken } from "../descriptor.js";
import { probeToken } from "../probe-request.js";
import { SlackAdapter, SLACK_CAPABILITIES } from "./adapter.js";
import { probeSlack } from "./probe.js";

/** Slack Socket Mode is not implemented: its keys are refused here, at load, rather than accepted and refused at start. */
const socketModeRefused = z
  .never({ error: "Socket Mode (appToken) is not supported; use HTTP mode with signingSecretEnv" })
  .optional();

const schema = z.looseObject({
  ...channelBase,
  appToken: socketModeRefused,
  appTokenEnv: socketModeRefused,
  signingSecret: nonEmpty.optional(),
  signingSecretEnv: envName.optional(),
  host: nonEmpty.optional(),
  port: port.optional(),
  path: z.string().startsWith("/").optional(),
  /** Web API root, e.g. a proxy or a local test server; default https://slack.com/api/. */
  apiUrl: httpUrl.optional(),
});

/** Slack (Bolt, HTTP mode): Events API and Block Kit buttons on a signed endpoint. */
export const slackDescriptor = defineChannel({
  type: "slack",
  schema,
  capabilities: SLACK_CAPABILITIES,
  async create(section, env) {
    return new SlackAdapter({
      botToken: sectionToken(section, "SLACK_BOT_TOKEN", "slack", env),
      signingSecret: signingSecretOf(section, env),
      ...definedOnly({ port: section.port, host: section.host, path: section.path, apiUrl: section.apiUrl }),
    });
  },
  async probe(section, env, { timeoutMs }) {
    const botToken = probeToken(() => sectionToken(section, "SLACK_BOT_TOKEN", "slack", env));
    if (!("token" in botToken)) return botToken;
    const signingSecret = probeToken(() => signingSecretOf(section, env));
    if (!("token" in signingSecret)) return signingSecret;
    return probeSlack(botToken.token, signingSecret.token, section.apiUrl, timeoutMs);
  },
});

function signingSecretOf(section: z.infer<typeof schema>, env: NodeJS.ProcessEnv): string {
  return section.signingSecret ?? tokenFromEnv(section.signingSecretEnv ?? "SLACK_SIGNING_SECRET", "slack", env);
}
