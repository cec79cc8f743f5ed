import { channelTypes } from "../channels/registry.js";
import { WEBCHAT_CHANNEL_TYPE } from "../core/identity-lists.js";
import { listPaired, listPending } from "../core/pairing-actions.js";
import { boundedCode, normalizeCode } from "../pairing/codes.js";
import type { CliSession } from "./environment.js";
import { refused, usageError } from "./errors.js";

/** The channel types gatehouse ships: the channel registry plus webchat. */
export function builtInChannelTypes(): string[] {
  return [...new Set([...channelTypes(), WEBCHAT_CHANNEL_TYPE])];
}

/**
 * Refuses a channel type nothing can use (`pairing invite bogus` would print a code no channel ever reads): it must be
 * built in, or already in the store (a custom channel of the user's own that has pending or paired senders).
 */
export async function assertUsableChannelType({ context, actor }: CliSession, channelType: string): Promise<void> {
  const builtIn = builtInChannelTypes();
  if (builtIn.includes(channelType)) return;
  const [{ pending }, { paired }] = await Promise.all([
    listPending(context, actor, { channelType }),
    listPaired(context, actor),
  ]);
  if (pending.length > 0 || paired.some((p) => p.channelType === channelType)) return;
  throw usageError(
    `unknown channel type "${channelType}": use one of ${builtIn.join(", ")} (or a custom channel type already in the store)`,
  );
}

/**
 * The channel type of the one live pairing request with this code, for `pairing approve CODE` without a channel type.
 * Invites are kept only as hashes, so they cannot be found this way: they need the channel type.
 */
export async function channelTypeOfCode({ context, actor }: CliSession, code: string): Promise<string> {
  const wanted = comparable(code);
  if (wanted === null) throw usageError(`${code} is not a pairing code`);
  const { pending } = await listPending(context, actor, {});
  const types = [
    ...new Set(pending.filter((p) => p.kind === "request" && comparable(p.code) === wanted).map((p) => p.channelType)),
  ];
  if (types.length === 1) return types[0]!;
  if (types.length > 1)
    throw usageError(
      `code ${code} is pending on ${types.join(" and ")}: give the channel type, e.g. pairing approve ${types[0]} ${code}`,
    );
  throw refused(
    `no live pairing request has the code ${code} (an invite needs its channel type: pairing approve <channelType> <code> --user-id <id>)`,
  );
}

/** One spelling per code for comparing: gatehouse's own normalisation, else any store's code upper-cased without separators. */
function comparable(code: string): string | null {
  return normalizeCode(code) ?? boundedCode(code)?.toUpperCase().replace(/[\s-]/g, "") ?? null;
}
