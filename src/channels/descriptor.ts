import type { z } from "zod";
import { tokenFromEnv, type ChannelAdapter, type ChannelCapabilities } from "./channel.js";
import type { ChannelRouterOptions } from "./router.js";

/** The keys every channel section of gatehouse.yaml has after validation. */
export interface ChannelSection {
  enabled: boolean;
  token?: string | undefined;
  tokenEnv?: string | undefined;
  ownerUserIds: string[];
  unknownUserPolicy?: ChannelRouterOptions["unknownUserPolicy"] | undefined;
  replyMode?: ChannelRouterOptions["replyMode"] | undefined;
  groupPolicy?: ChannelRouterOptions["groupPolicy"] | undefined;
}

/**
 * One channel: its type (the key under `channels:` and the channelType of its senders), the zod schema of its section,
 * what it can do, and a factory that builds the adapter from a validated section. Adapter modules are cheap to import:
 * each loads its platform SDK only when it starts.
 */
export interface ChannelDescriptor<Section extends ChannelSection = ChannelSection> {
  readonly type: string;
  readonly schema: z.ZodType<Section>;
  readonly capabilities: ChannelCapabilities;
  create(section: Section, env: NodeJS.ProcessEnv): Promise<ChannelAdapter>;
  /**
   * Optional check for `gatehouse doctor`: is the token there and well formed, and does the platform accept it within
   * `timeoutMs`? Never throws for a problem it can name, and never puts a token in `problem`.
   */
  probe?(section: Section, env: NodeJS.ProcessEnv, options: { timeoutMs: number }): Promise<ChannelProbeResult>;
}

/** What a channel probe found: ok with a one-line detail, or a one-line problem. */
export type ChannelProbeResult = { ok: true; detail: string } | { ok: false; problem: string };

/** Keeps a descriptor's section type while storing it in a list of all channels. */
export function defineChannel<Section extends ChannelSection>(
  descriptor: ChannelDescriptor<Section>,
): ChannelDescriptor {
  return descriptor as unknown as ChannelDescriptor;
}

/** A section's inline token, or the one in its tokenEnv variable (default `defaultEnv`); refuses placeholders. */
export function sectionToken(
  section: ChannelSection,
  defaultEnv: string,
  channelType: string,
  env: NodeJS.ProcessEnv,
): string {
  return section.token ?? tokenFromEnv(section.tokenEnv ?? defaultEnv, channelType, env);
}

/** The entries of `options` that are set: a config key left out never reaches an adapter as `undefined`. */
export function definedOnly<T extends Record<string, unknown>>(
  options: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
