import type { ChannelProbeResult } from "../descriptor.js";
import { isProbeProblem, probeProblem, probeRequest } from "../probe-request.js";

/** The Graph API root and version when the section does not set them (the adapter's defaults). */
export const WHATSAPP_API_BASE = "https://graph.facebook.com";
export const WHATSAPP_API_VERSION = "v21.0";

export interface WhatsAppProbeInput {
  phoneNumberId: string;
  accessToken: string;
  /** Never sent: only scrubbed from messages. */
  appSecret: string;
  verifyToken: string;
  apiBaseUrl?: string | undefined;
  apiVersion?: string | undefined;
}

/**
 * Checks the WhatsApp Cloud API settings the way `start` needs them: `GET /{version}/{phone-number-id}` with the
 * access token within `timeoutMs`. Meta answers 401 with an OAuthException code 190 for a token it refuses, and 400
 * code 100 for a phone number id the token cannot see. Secrets are scrubbed from every message this returns.
 */
export async function probeWhatsApp(input: WhatsAppProbeInput, timeoutMs: number): Promise<ChannelProbeResult> {
  const secrets = [input.accessToken, input.appSecret, input.verifyToken];
  if (/\s/.test(input.accessToken))
    return { ok: false, problem: "the access token contains spaces; copy it again (no Bearer prefix)" };
  const root = (input.apiBaseUrl ?? WHATSAPP_API_BASE).replace(/\/+$/, "");
  const version = input.apiVersion ?? WHATSAPP_API_VERSION;
  const answer = await probeRequest(
    `${root}/${encodeURIComponent(version)}/${encodeURIComponent(input.phoneNumberId)}`,
    { headers: { authorization: `Bearer ${input.accessToken}` } },
    timeoutMs,
    secrets,
  );
  if (isProbeProblem(answer)) return answer;
  const body = answer.body as
    | { error?: { code?: number; type?: string; message?: string }; display_phone_number?: string }
    | undefined;
  const code = body?.error?.code;
  if (answer.status === 401 || code === 190) {
    return {
      ok: false,
      problem: `whatsapp rejected the access token (${answer.status}, OAuthException code ${code ?? "?"})`,
    };
  }
  if (code === 100) {
    return {
      ok: false,
      problem: `the phone number id ${input.phoneNumberId} is unknown to this access token (${answer.status}, code 100)`,
    };
  }
  if (answer.status !== 200 || body?.error !== undefined) {
    const reason = body?.error?.message ?? answer.statusText;
    return probeProblem(
      `${answer.host} answered GET /${version}/<phone number id> with ${answer.status} ${reason}`,
      secrets,
    );
  }
  return {
    ok: true,
    detail: `GET /${version}/${input.phoneNumberId} on ${answer.host} answers (${body?.display_phone_number ?? "number"}); app secret and verify token set`,
  };
}
