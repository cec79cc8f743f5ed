import { z } from "zod";

/**
 * The parts of a WhatsApp Cloud API webhook notification the channel reads (Meta's documented `messages` field payload);
 * everything else in it is allowed and ignored.
 */
const message = z.looseObject({
  from: z.string().min(1),
  id: z.string().min(1),
  type: z.string(),
  text: z.looseObject({ body: z.string() }).optional(),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: z.looseObject({ id: z.string(), title: z.string() }).optional(),
    })
    .optional(),
});

const status = z.looseObject({
  id: z.string(),
  status: z.string(),
  recipient_id: z.string(),
  errors: z.array(z.looseObject({ code: z.number() })).optional(),
});

const messagesValue = z.looseObject({
  messaging_product: z.literal("whatsapp"),
  metadata: z.looseObject({ phone_number_id: z.string() }),
  contacts: z
    .array(z.looseObject({ wa_id: z.string(), profile: z.looseObject({ name: z.string() }).optional() }))
    .optional(),
  messages: z.array(message).optional(),
  statuses: z.array(status).optional(),
});

const notification = z.looseObject({
  object: z.literal("whatsapp_business_account"),
  entry: z.array(z.looseObject({ changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })) })),
});

export type WhatsAppMessage = z.infer<typeof message>;
export type WhatsAppStatus = z.infer<typeof status>;

/** One inbound message with the sender's profile name (from `contacts`). */
export interface InboundWhatsApp {
  message: WhatsAppMessage;
  name: string;
}

export interface ParsedNotification {
  messages: InboundWhatsApp[];
  statuses: WhatsAppStatus[];
}

/** The messages and statuses for `phoneNumberId` in a notification body, or null when the body is not one. */
export function parseNotification(rawBody: Buffer, phoneNumberId: string): ParsedNotification | null {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString("utf8"));
  } catch {
    return null;
  }
  const parsed = notification.safeParse(json);
  if (!parsed.success) return null;
  const out: ParsedNotification = { messages: [], statuses: [] };
  for (const entry of parsed.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== "messages") continue;
      const value = messagesValue.safeParse(change.value);
      // Another number of the same business account is not ours to answer.
      if (!value.success || value.data.metadata.phone_number_id !== phoneNumberId) continue;
      const names = new Map((value.data.contacts ?? []).map((c) => [c.wa_id, c.profile?.name ?? ""]));
      for (const m of value.data.messages ?? []) out.messages.push({ message: m, name: names.get(m.from) ?? "" });
      out.statuses.push(...(value.data.statuses ?? []));
    }
  }
  return out;
}
