import type { ChannelPlugin } from "../../core/context.js";
import { channelPlugin, type ChannelRouterOptions } from "../router.js";
import { WhatsAppAdapter, type WhatsAppAdapterOptions } from "./adapter.js";

export { WhatsAppAdapter, WHATSAPP_LIMITS, type WhatsAppAdapterOptions, type WhatsAppTemplate } from "./adapter.js";
export { WhatsAppApiError, WHATSAPP_ERRORS } from "./graph-api.js";
export { verifyHubSignature, hubSignature } from "./signature.js";

/** The WhatsApp Cloud API channel as a gateway plugin; its webhook is served on the gateway's HTTP server. */
export function whatsappChannel(options: WhatsAppAdapterOptions, router: ChannelRouterOptions = {}): ChannelPlugin {
  return channelPlugin(new WhatsAppAdapter(options), router);
}
