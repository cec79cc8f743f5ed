import { z } from "zod";
import { BOUNDED_CODE } from "../pairing/codes.js";

/** Bodies and params of the admin API and the WebSocket methods; unknown keys are refused so typos are not ignored. */
const channelType = z.string().min(1).max(64);
const code = z
  .string()
  .trim()
  .regex(BOUNDED_CODE, "must be 4-64 letters and digits, with dashes or spaces between them");
const id = z.string().min(1).max(256);
const label = z.string().max(256);

export const approveInput = z.strictObject({ channelType, code, userId: id.optional(), label: label.optional() });
export const denyInput = z.strictObject({ channelType, code });
export const revokeInput = z.strictObject({ channelType, channelId: id });
export const inviteInput = z.strictObject({ channelType });
export const pendingQuery = z.strictObject({ channelType: channelType.optional() });
export const auditQuery = z.strictObject({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const sessionParams = z.strictObject({ id });
export const listInput = z.strictObject({ channelType: channelType.optional() }).optional();

export type ApproveInput = z.infer<typeof approveInput>;
export type DenyInput = z.infer<typeof denyInput>;
export type RevokeInput = z.infer<typeof revokeInput>;

/** WebSocket frames. Params a client adds beyond these (a "role", say) are dropped, never trusted. */
export const connectFrame = z.object({
  type: z.literal("connect"),
  params: z
    .object({
      token: z.string().min(1).max(4096).optional(),
      deviceId: z
        .string()
        .min(16)
        .max(256)
        .regex(/^[A-Za-z0-9._:-]+$/, "must be letters, digits, '.', '_', ':' or '-'")
        .optional(),
      /** A key device's public key (SPKI DER, base64url); the gateway answers with a challenge to sign. */
      publicKey: z.string().min(1).max(400).optional(),
      name: z.string().max(256).optional(),
      sessionId: z.string().min(1).max(256).optional(),
    })
    .default({}),
});

/** A key device's answer to the gateway's challenge: its signature (base64url) over the challenge's bytes. */
export const proofFrame = z.object({
  type: z.literal("proof"),
  params: z.object({ signature: z.string().min(1).max(400) }),
});

export const requestFrame = z.object({
  type: z.literal("req"),
  id: z.union([z.string().min(1).max(128), z.number().int()]),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
});

export const chatSendInput = z.strictObject({ text: z.string().min(1).max(16_000) });

export type ConnectParams = z.infer<typeof connectFrame>["params"];
export type RequestFrame = z.infer<typeof requestFrame>;
