import type { ChannelPlugin } from "../../src/core/context.js";
import { startGateway, type TestGateway } from "../gateway-helpers.js";
import { LocalModelServer } from "../openai-server.js";

/**
 * A gateway whose agent is the openai agent (the official client) against a local model server, with `channels`
 * and these senders allowed; `cleanup` gets the steps that stop both.
 */
export async function startOpenAiGateway(
  cleanup: Array<() => Promise<void>>,
  options: { allowedUsers: string[]; channels: ChannelPlugin[] },
): Promise<{ model: LocalModelServer; gw: TestGateway }> {
  const model = new LocalModelServer({ apiKey: "none" });
  const baseUrl = await model.listen();
  cleanup.push(() => model.close());
  const gw = await startGateway({
    agent: { type: "openai", baseUrl, model: "m" },
    policy: { allowedUsers: options.allowedUsers },
    channels: options.channels,
  });
  cleanup.push(() => gw.gateway.stop());
  return { model, gw };
}
