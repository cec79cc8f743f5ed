import { createHash } from "node:crypto";
import type { LeaseKeeper } from "../../core/lease-keeper.js";
import type { ButtonInteraction, Client, Message, SendableChannels } from "discord.js";
import type { ChannelHealth, GatewayLogger } from "../../core/context.js";
import { ChannelStatus } from "../status.js";
import {
  importChannelSdk,
  tokenFromEnv,
  type ActionCard,
  type ApprovalRequest,
  type ChannelCapabilities,
  type ChannelAdapter,
  type ChannelHandlers,
  type SentCard,
  type StreamingReplies,
} from "../channel.js";
import { handlePress, InFlight, SILENT_LOGGER, type AdapterBaseOptions } from "../adapter-support.js";
import { actionCardText } from "../action-card.js";
import { approvalCardText } from "../owner-card.js";
import { clipText, DISCORD_MARKDOWN, splitText } from "../text/index.js";
import { errorName } from "../redact.js";
import { discordAddressing } from "./addressing.js";
import { discordCustomId, parseDiscordCustomId } from "./components.js";
import { DiscordInteractionsEndpoint, type DiscordInteractionsOptions } from "./interactions.js";

export interface DiscordAdapterOptions extends AdapterBaseOptions {
  /** Bot token; default: the DISCORD_BOT_TOKEN environment variable (never logged). */
  token?: string;
  tokenEnv?: string;
  /**
   * For apps with an Interactions Endpoint URL: button presses then arrive over HTTP (Ed25519-signed) instead of the
   * gateway connection, and are served by this endpoint.
   */
  interactions?: DiscordInteractionsOptions;
  /**
   * REST API root for discord.js (default https://discord.com/api), e.g. a proxy or a local emulator. The gateway
   * (WebSocket) address is the one that API names in `GET /gateway/bot`, as with Discord itself.
   */
  apiRoot?: string;
  /**
   * How long start() waits for the gateway's READY (default 60 s). Past it, start() returns with the channel degraded in
   * /healthz (and an error in the log) while discord.js keeps trying; a refused token still fails start() at once.
   */
  loginTimeoutMs?: number;
}

const MAX_MESSAGE = 2000;
/** Discord shows "typing…" for about 10 s after POST /channels/{id}/typing; it is sent again before that. */
const TYPING_REPEAT_MS = 8_000;
/** At most one edit of a streamed reply per second stays well inside Discord's per-channel message rate limit. */
const EDIT_INTERVAL_MS = 1_000;
/** Nothing the bot sends may ping: an agent's reply (or a requester's text) can contain @everyone, a role or a user mention. */
const NO_PINGS = { parse: [] as [] };

/** Discord through discord.js: the gateway connection for messages, message-component buttons for Approve/Deny. */
export const DISCORD_CAPABILITIES: ChannelCapabilities = { buttons: true, groups: true, gatewayWebhook: false };

export class DiscordAdapter implements ChannelAdapter {
  readonly channelType: string;
  readonly capabilities = DISCORD_CAPABILITIES;
  private client: Client | null = null;
  private keeper: LeaseKeeper | null = null;
  private endpoint: DiscordInteractionsEndpoint | null = null;
  private logger: GatewayLogger = SILENT_LOGGER;
  private inFlight: InFlight;
  private readonly token: string;
  private readonly status: ChannelStatus;

  constructor(private readonly options: DiscordAdapterOptions = {}) {
    this.channelType = options.channelType ?? "discord";
    this.status = new ChannelStatus(this.channelType, () => this.logger);
    this.token = options.token ?? tokenFromEnv(options.tokenEnv ?? "DISCORD_BOT_TOKEN", this.channelType);
    this.inFlight = new InFlight(undefined, this.channelType);
    if (options.interactions) this.endpoint = new DiscordInteractionsEndpoint(options.interactions, this.channelType);
  }

  async start(handlers: ChannelHandlers): Promise<void> {
    this.logger = this.options.logger ?? handlers.logger;
    this.inFlight = new InFlight(this.logger, this.channelType);
    const discord = await importChannelSdk("discord.js", this.channelType, () => import("discord.js"));
    const { GatewayIntentBits, Partials, Events } = discord;
    const client = new discord.Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.DirectMessages,
        GatewayIntentBits.MessageContent,
      ],
      partials: [Partials.Channel],
      ...(this.options.apiRoot ? { rest: { api: this.options.apiRoot } } : {}),
    });
    this.client = client;
    client.on(Events.MessageCreate, (message) => this.onMessage(message, handlers));
    client.on(Events.InteractionCreate, (interaction) => {
      if (interaction.isButton()) this.inFlight.track(this.onPress(interaction, handlers));
    });
    // discord.js reconnects and resumes by itself; ShardDisconnect means it gave up (e.g. 4004: the token was reset).
    client.on(Events.ShardDisconnect, (event) =>
      this.status.degraded(`the Discord gateway connection closed for good (code ${Number(event.code)})`),
    );
    client.on(Events.Invalidated, () => this.status.degraded("the Discord session was invalidated"));
    client.on(Events.ShardReady, () => this.status.ok());
    client.on(Events.ShardResume, () => this.status.ok());
    client.on(Events.Error, (error) =>
      this.logger.error("discord client error", { channelType: this.channelType, error: errorName(error) }),
    );
    await this.endpoint?.start(handlers);
    // REST (replies, owner cards, notices) works on every instance; the gateway connection only on the lease holder.
    client.rest.setToken(this.token);
    const keeper = handlers.lease(`discord:${createHash("sha256").update(this.token).digest("hex").slice(0, 16)}`);
    this.keeper = keeper;
    const firstTurn = new Promise<unknown>((resolve) => {
      keeper.run(
        async (held) => {
          try {
            await this.connect(client);
          } catch (error) {
            resolve(error);
            throw error;
          }
          resolve(null);
          if (!held.signal.aborted)
            await new Promise((done) => held.signal.addEventListener("abort", done, { once: true }));
          // Lost or stopping: the gateway connection goes, so the next holder is the only one receiving.
          await client.destroy();
          client.rest.setToken(this.token);
        },
        () => {
          this.status.ok();
          resolve(null);
        },
      );
    });
    const failure = await firstTurn;
    if (failure !== null) {
      await this.stop();
      throw failure;
    }
  }

  /** Logs in and waits for READY (with a deadline: past it the channel shows degraded and discord.js keeps trying). */
  private async connect(client: Client): Promise<void> {
    const { Events } = await importChannelSdk("discord.js", this.channelType, () => import("discord.js"));
    // Until READY arrives the channel is not receiving: /healthz says so while start() waits (with a deadline).
    this.status.degraded("not connected to the Discord gateway yet");
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    const limitMs = this.options.loginTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), limitMs)));
    const login = client.login(this.token);
    try {
      const outcome = await Promise.race([Promise.all([login, ready]), late]);
      if (outcome === "late") {
        login.catch((error: unknown) => this.status.degraded(`login failed: ${errorName(error).split(":")[0]}`));
        this.status.degraded(`no READY from the Discord gateway within ${limitMs} ms; still trying`);
        return;
      }
    } finally {
      clearTimeout(timer);
    }
    this.logger.info("discord channel started", { channelType: this.channelType });
  }

  async stop(): Promise<void> {
    const keeper = this.keeper;
    this.keeper = null;
    // Disconnects from the gateway (when this instance held it) and releases the lease for another instance.
    await keeper?.stop();
    await this.endpoint?.stop();
    const client = this.client;
    // No new messages or presses are taken; work already running (a reply, an owner card) still sends, then the client goes.
    client?.removeAllListeners("messageCreate").removeAllListeners("interactionCreate");
    await this.inFlight.settle();
    if (this.client === client) this.client = null;
    await client?.destroy();
  }

  async send(chatId: string, text: string): Promise<void> {
    const channel = await this.sendable(chatId);
    for (const part of splitText(text, MAX_MESSAGE)) await channel.send({ content: part, allowedMentions: NO_PINGS });
  }

  /** Typing indicator, then one message edited as the reply streams (POST .../typing, POST and PATCH .../messages). */
  readonly streaming: StreamingReplies = {
    maxLength: MAX_MESSAGE,
    editIntervalMs: EDIT_INTERVAL_MS,
    typingIntervalMs: TYPING_REPEAT_MS,
    typing: async (chatId) => {
      await (await this.sendable(chatId)).sendTyping();
    },
    post: async (chatId, text) =>
      (await (await this.sendable(chatId)).send({ content: text, allowedMentions: NO_PINGS })).id,
    edit: async (chatId, messageId, text) => {
      await (await this.sendable(chatId)).messages.edit(messageId, { content: text, allowedMentions: NO_PINGS });
    },
  };

  async sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void> {
    // Markdown: the requester's name and message sit in code spans; no mention in the card may ping anyone.
    await this.sendCard(ownerId, approvalCardText(request, DISCORD_MARKDOWN), request);
  }

  async sendActionCard(ownerId: string, card: ActionCard): Promise<SentCard> {
    // The agent's tool, arguments, agent and session sit in code spans on one line each, clipped.
    const sent = await this.sendCard(ownerId, actionCardText(card, DISCORD_MARKDOWN), card);
    return { chatId: sent.channelId, messageId: sent.id };
  }

  /** Edits the card to say who decided; an edit with no components also removes the buttons. */
  async closeActionCard(sent: SentCard, card: ActionCard, closing: string): Promise<void> {
    const content = clipText(actionCardText(card, DISCORD_MARKDOWN, closing), MAX_MESSAGE);
    await (await this.sendable(sent.chatId)).messages.edit(sent.messageId, {
      content,
      components: [],
      allowedMentions: NO_PINGS,
    });
  }

  private async sendCard(
    ownerId: string,
    text: string,
    tokens: { approveToken: string; denyToken: string },
  ): Promise<Message> {
    const { ActionRowBuilder, ButtonBuilder, ButtonStyle } = await importChannelSdk(
      "discord.js",
      this.channelType,
      () => import("discord.js"),
    );
    const row = new ActionRowBuilder<InstanceType<typeof ButtonBuilder>>().addComponents(
      new ButtonBuilder()
        .setCustomId(discordCustomId("approve", tokens.approveToken))
        .setLabel("Approve")
        .setStyle(ButtonStyle.Success),
      new ButtonBuilder()
        .setCustomId(discordCustomId("deny", tokens.denyToken))
        .setLabel("Deny")
        .setStyle(ButtonStyle.Danger),
    );
    const owner = await this.requireClient().users.fetch(ownerId);
    return owner.send({ content: clipText(text, MAX_MESSAGE), components: [row], allowedMentions: NO_PINGS });
  }

  health(): ChannelHealth {
    return this.status.get();
  }

  /** The bot's DM channel with a user. */
  async directChatIdFor(userId: string): Promise<string> {
    return (await this.requireClient().users.createDM(userId)).id;
  }

  private onMessage(message: Message, handlers: ChannelHandlers): void {
    if (message.author.bot || message.content === "") return;
    const isDirect = message.channel.isDMBased();
    const group = isDirect
      ? { addressed: true, text: message.content }
      : discordAddressing(
          message.content,
          this.client?.user?.id,
          [...message.mentions.users.keys()],
          message.mentions.repliedUser?.id,
        );
    this.inFlight.track(
      handlers.onMessage({
        channelType: this.channelType,
        chatId: message.channelId,
        sender: { id: message.author.id, name: message.author.globalName ?? message.author.username },
        text: group.text,
        isDirect,
        addressed: group.addressed,
        ...(message.inGuild() ? { chatName: `#${message.channel.name}` } : {}),
      }),
    );
  }

  private async onPress(interaction: ButtonInteraction, handlers: ChannelHandlers): Promise<void> {
    const parsed = parseDiscordCustomId(interaction.customId);
    if (!parsed) return;
    await handlePress(
      handlers,
      {
        action: parsed.action,
        token: parsed.token,
        pressedBy: interaction.user.id,
        chatId: interaction.channelId,
        // Outside a guild; the router then checks the chat is the presser's own DM with the bot (createDM).
        isDirect: !interaction.inGuild(),
      },
      async (text, options) => {
        if (options?.removeButtons) {
          const content = clipText(`${interaction.message.content}\n\n${text}`, MAX_MESSAGE);
          await interaction.update({ content, components: [], allowedMentions: NO_PINGS });
        } else {
          await interaction.reply({ content: text, flags: 64, allowedMentions: NO_PINGS });
        }
      },
    );
  }

  private async sendable(chatId: string): Promise<SendableChannels> {
    const channel = await this.requireClient().channels.fetch(chatId);
    if (!channel || !channel.isSendable()) throw new Error("discord channel is not one the bot can send to");
    return channel;
  }

  private requireClient(): Client {
    if (!this.client) throw new Error("the discord channel is not started");
    return this.client;
  }
}
