import type { PendingRequest } from "gatehouse";

/** One pending code as `listPending` shows it: an invite (no channel id) masked, a request with its code. */
export function pendingRequest(
  entry: { code: string; channelType: string; channelId: string; createdAt: number },
  now: number,
): PendingRequest {
  const invite = entry.channelId === "";
  return {
    code: invite ? "****-****" : entry.code,
    channelType: entry.channelType,
    channelId: entry.channelId,
    userId: entry.channelId,
    userName: "",
    createdAt: entry.createdAt,
    ageSeconds: Math.floor((now - entry.createdAt) / 1000),
    kind: invite ? "invite" : "request",
  };
}
