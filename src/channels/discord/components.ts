import type { ButtonAction } from "../../pairing/buttons.js";

const PREFIX = "gatehouse";

/** A button's custom_id: `gatehouse:<action>:<token>` (at most 100 characters; tokens are 38). */
export function discordCustomId(action: ButtonAction, token: string): string {
  return `${PREFIX}:${action}:${token}`;
}

export function parseDiscordCustomId(customId: unknown): { action: ButtonAction; token: string } | null {
  if (typeof customId !== "string") return null;
  const match = /^gatehouse:(approve|deny):([A-Za-z0-9_-]{1,80})$/.exec(customId);
  return match ? { action: match[1] as ButtonAction, token: match[2]! } : null;
}
