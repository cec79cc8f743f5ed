import { z } from "zod";

/** zod field types shared by the gateway's config schema and the channels' own sections. */
export const nonEmpty = z.string().trim().min(1, "must not be empty");
export const idList = z.array(nonEmpty).default([]);
export const unknownUserPolicy = z.enum(["deny", "allow", "pair"]);
export const port = z.number().int("must be an integer").min(0, "must be 0-65535").max(65535, "must be 0-65535");
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

/** The keys every channel section has; a channel's descriptor adds its own. */
export const channelBase = {
  enabled: z.boolean().default(true),
  /** Inline token; prefer tokenEnv so secrets stay out of files. */
  token: nonEmpty.optional(),
  tokenEnv: envName.optional(),
  ownerUserIds: idList,
  unknownUserPolicy: unknownUserPolicy.optional(),
  /** How a streamed reply is shown: "edit" one message as text arrives (default), or "final" (send it complete). */
  replyMode: z.enum(["edit", "final"]).optional(),
  /** In an approved group: "members" (default) still pairs each member; "group" admits everyone who addresses the bot. */
  groupPolicy: z.enum(["members", "group"]).optional(),
};

/** An http(s) URL: an API root or base URL a channel calls (a proxy or a local server in tests). */
export const httpUrl = z.url({ protocol: /^https?$/ });
