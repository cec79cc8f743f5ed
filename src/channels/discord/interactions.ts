import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KeyObject } from "node:crypto";
import type { AnswerOptions, ChannelHandlers } from "../channel.js";
import { closeServer, listenOn, readRawBody, singleHeader } from "../adapter-support.js";
import { errorName } from "../redact.js";
import { parseDiscordCustomId } from "./components.js";
import { clipText } from "../text/index.js";
import { discordPublicKey, verifyDiscordSignature } from "./signature.js";

export interface DiscordInteractionsOptions {
  /** The application's public key (hex, from the Developer Portal; not a secret). */
  publicKey: string;
  host?: string;
  port?: number;
  path?: string;
  now?: () => number;
}

const PING = 1;
const MESSAGE_COMPONENT = 3;
const PONG = 1;
const CHANNEL_MESSAGE = 4;
const UPDATE_MESSAGE = 7;
const EPHEMERAL = 64;
const DM_CHANNEL = 1;
const MAX_BODY = 1_000_000;

interface ComponentInteraction {
  type: number;
  guild_id?: string;
  channel_id?: string;
  channel?: { id: string; type: number };
  user?: { id: string };
  member?: { user?: { id: string } };
  message?: { content?: string };
  data?: { custom_id?: string; component_type?: number };
}

/**
 * Discord's HTTP interactions endpoint (for apps with an Interactions Endpoint URL): every request must carry a valid
 * Ed25519 signature (else 401, as Discord requires); PING is answered; Approve/Deny button presses go to the router and
 * its answer becomes the interaction response (an ephemeral reply, or the card updated without buttons).
 */
export class DiscordInteractionsEndpoint {
  private server: Server | null = null;
  private readonly key: KeyObject;

  constructor(
    private readonly options: DiscordInteractionsOptions,
    private readonly channelType = "discord",
  ) {
    this.key = discordPublicKey(options.publicKey);
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    const path = this.options.path ?? "/discord/interactions";
    const server = createServer((req, res) => void this.onRequest(req, res, path, handlers));
    this.server = server;
    await listenOn(server, this.options.port ?? 3001, this.options.host);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await closeServer(server);
  }

  address(): AddressInfo | null {
    const address = this.server?.address();
    return address && typeof address === "object" ? address : null;
  }

  private async onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    handlers: ChannelHandlers,
  ): Promise<void> {
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== path) return void res.writeHead(404).end();
    let raw: Buffer;
    try {
      raw = await readRawBody(req, MAX_BODY);
    } catch {
      return void res.writeHead(413).end();
    }
    const verdict = verifyDiscordSignature(this.key, {
      signature: singleHeader(req, "x-signature-ed25519"),
      timestamp: singleHeader(req, "x-signature-timestamp"),
      body: raw,
      now: (this.options.now ?? Date.now)(),
    });
    if (!verdict.ok) {
      handlers.logger.warn("discord interaction refused", { channelType: this.channelType, reason: verdict.reason });
      return void res.writeHead(401).end("invalid request signature");
    }
    let interaction: ComponentInteraction;
    try {
      interaction = JSON.parse(raw.toString("utf8")) as ComponentInteraction;
    } catch {
      return void res.writeHead(400).end();
    }
    const reply = (body: unknown): void =>
      void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (interaction.type === PING) return reply({ type: PONG });
    if (interaction.type !== MESSAGE_COMPONENT)
      return reply({ type: CHANNEL_MESSAGE, data: { content: "Not supported.", flags: EPHEMERAL } });
    try {
      reply(await this.press(interaction, handlers));
    } catch (error) {
      handlers.logger.error("discord interaction failed", { channelType: this.channelType, error: errorName(error) });
      reply({
        type: CHANNEL_MESSAGE,
        data: { content: "Something went wrong. Nothing was changed.", flags: EPHEMERAL },
      });
    }
  }

  /** Runs the press through the router and turns its answer into the interaction response. */
  private async press(interaction: ComponentInteraction, handlers: ChannelHandlers): Promise<unknown> {
    const parsed = parseDiscordCustomId(interaction.data?.custom_id);
    let response: unknown = {
      type: CHANNEL_MESSAGE,
      data: { content: "This button is not valid. Nothing was changed.", flags: EPHEMERAL },
    };
    if (!parsed) return response;
    const pressedBy = interaction.user?.id ?? interaction.member?.user?.id ?? "";
    const chatId = interaction.channel_id ?? interaction.channel?.id ?? "";
    let answered = false;
    await handlers.onButton({
      action: parsed.action,
      token: parsed.token,
      pressedBy,
      chatId,
      isDirect: interaction.guild_id === undefined && interaction.channel?.type === DM_CHANNEL,
      answer: async (text: string, options?: AnswerOptions) => {
        if (answered) return;
        answered = true;
        response = options?.removeButtons
          ? {
              type: UPDATE_MESSAGE,
              data: {
                content: clipText(`${interaction.message?.content ?? ""}\n\n${text}`.trim(), 2000),
                components: [],
                allowed_mentions: { parse: [] },
              },
            }
          : { type: CHANNEL_MESSAGE, data: { content: text, flags: EPHEMERAL } };
      },
    });
    return response;
  }
}
