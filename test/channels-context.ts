import { EventEmitter } from "node:events";
import { ApprovalService } from "../src/core/approvals/service.js";
import { randomBytes } from "node:crypto";
import { chatOwnerCheck } from "../src/core/admission.js";
import type { Agent, GatewayContext, GatewayLogger, PolicyOptions } from "../src/core/context.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import type {
  AnswerOptions,
  ApprovalRequest,
  ButtonPress,
  ChannelAdapter,
  ChannelHandlers,
  InboundMessage,
} from "../src/channels/channel.js";
import { peekButtonAction } from "../src/pairing/buttons.js";

export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export interface TestGateway {
  ctx: GatewayContext;
  stores: Stores;
  logs: string[];
  agentCalls: Array<{ text: string; sessionId: string; userId: string }>;
  close(): Promise<void>;
}

/**
 * A GatewayContext over real memory stores: store audit events are forwarded to ctx.events the way the gateway does it,
 * so approvals from any path reach the channel. The agent echoes; logs are captured so tests can grep them for secrets.
 */
export async function testGateway(options: {
  clock: TestClock;
  policy?: Partial<PolicyOptions>;
  agent?: Agent;
  secret?: Buffer;
  storeUrl?: string;
}): Promise<TestGateway> {
  const secret = options.secret ?? randomBytes(32);
  const stores = await openStores(options.storeUrl ?? "memory:", { secret, now: options.clock.now });
  const events = new EventEmitter();
  const off = stores.pairing.subscribe((event) => {
    events.emit(`pairing.${event.type}`, event);
    events.emit("audit", event);
  });
  const logs: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const logger: GatewayLogger = { info: log("info"), warn: log("warn"), error: log("error") };
  const agentCalls: TestGateway["agentCalls"] = [];
  const agent: Agent =
    options.agent ??
    (async (message) => {
      agentCalls.push({ text: message.text, sessionId: message.sessionId, userId: message.principal.userId });
      return (async function* () {
        yield "echo: ";
        yield message.text;
      })();
    });
  const policy: PolicyOptions = { unknownUserPolicy: "pair", allowedUsers: [], ownerUserIds: [], ...options.policy };
  const ctx: GatewayContext = {
    auth: { check: () => ({ success: false, metadata: {} }) },
    pairing: stores.pairing,
    sessions: stores.sessions,
    ...(stores.seen ? { seen: stores.seen } : {}),
    ...(stores.budgets ? { budgets: stores.budgets } : {}),
    agent,
    policy,
    events,
    secret,
    logger,
    isOwner: (channelType, userId) => chatOwnerCheck(ctx)(channelType, userId),
  };
  // Agents' approval requests on the same store, as createGateway wires them.
  const approvals = stores.approvals
    ? new ApprovalService(stores.approvals, { events, logger, now: options.clock.now })
    : undefined;
  if (approvals) {
    ctx.approvals = approvals;
    await approvals.start();
  }
  return {
    ctx,
    stores,
    logs,
    agentCalls,
    close: async () => {
      off();
      approvals?.stop();
      await stores.close();
    },
  };
}

export interface SentCard {
  ownerId: string;
  request: ApprovalRequest;
}

export interface PressResult {
  answers: Array<{ text: string; removeButtons: boolean }>;
}

/**
 * A small chat adapter implementing the public channel contract in memory: what the router sends is recorded, and tests
 * deliver messages and button presses the way a platform adapter would. DM chat ids equal user ids (as on Telegram).
 */
export class InMemoryChatAdapter implements ChannelAdapter {
  readonly capabilities = { buttons: true, groups: true, gatewayWebhook: false };
  readonly sent: Array<{ chatId: string; text: string }> = [];
  readonly cards: SentCard[] = [];
  private handlers: ChannelHandlers | null = null;

  constructor(readonly channelType: string) {}

  async start(handlers: ChannelHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async stop(): Promise<void> {
    this.handlers = null;
  }

  async send(chatId: string, text: string): Promise<void> {
    this.sent.push({ chatId, text });
  }

  async sendApprovalCard(ownerId: string, request: ApprovalRequest): Promise<void> {
    this.cards.push({ ownerId, request });
  }

  directChatIdFor(userId: string): string {
    return userId;
  }

  /** A message from `senderId` in `chatId` (their DM by default); in a group it is addressed to the bot unless told. */
  async deliver(
    senderId: string,
    text: string,
    chatId = this.directChatIdFor(senderId),
    name = `user ${senderId}`,
    group: { addressed?: boolean; chatName?: string } = {},
  ): Promise<void> {
    const message: InboundMessage = {
      channelType: this.channelType,
      chatId,
      sender: { id: senderId, name },
      text,
      isDirect: chatId === this.directChatIdFor(senderId),
      addressed: group.addressed ?? true,
      ...(group.chatName ? { chatName: group.chatName } : {}),
    };
    await this.requireHandlers().onMessage(message);
  }

  async press(token: string, pressedBy: string, chatId = this.directChatIdFor(pressedBy)): Promise<PressResult> {
    const result: PressResult = { answers: [] };
    const press: ButtonPress = {
      action: peekButtonAction(token),
      token,
      pressedBy,
      chatId,
      isDirect: chatId === this.directChatIdFor(pressedBy),
      answer: async (text: string, options?: AnswerOptions) => {
        result.answers.push({ text, removeButtons: options?.removeButtons === true });
      },
    };
    await this.requireHandlers().onButton(press);
    return result;
  }

  textsTo(chatId: string): string[] {
    return this.sent.filter((m) => m.chatId === chatId).map((m) => m.text);
  }

  private requireHandlers(): ChannelHandlers {
    if (!this.handlers) throw new Error("adapter not started");
    return this.handlers;
  }
}
