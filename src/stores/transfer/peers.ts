import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { issueText, pairedRecord, type PairedRecord } from "./records.js";

/** The chat channels gatehouse has; a peer's pairing on any other channel cannot be carried over. */
const OUR_CHANNELS = new Set(["telegram", "discord", "slack", "whatsapp"]);

/** A problem in a peer's file: which file, which entry, what was wrong. */
export class PeerFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "PeerFileError";
  }
}

export interface PeerImport {
  records: PairedRecord[];
  /** Entries that were left out on purpose (unknown channel with skipUnknown, wildcards), one line each. */
  skipped: string[];
}

export interface PeerOptions {
  /** Leave out pairings on channels gatehouse does not have, instead of refusing the whole import. */
  skipUnknown?: boolean;
}

// PraisonAI's gateway keeps authorised channels in <dir>/pairing.json: {"paired": [PairedChannel, ...]}, where each
// PairedChannel (praisonai/gateway/pairing.py) is {channel_id, channel_type, paired_at (epoch seconds), label}.
const praisonPaired = z.looseObject({
  channel_id: z.union([z.string().min(1), z.number()]),
  channel_type: z.string().min(1),
  paired_at: z.number().nonnegative().optional(),
  label: z.string().optional(),
});
const praisonFile = z.looseObject({ paired: z.array(z.unknown()) });

/** Reads PraisonAI's `pairing.json` in `dir` (its gateway directory, e.g. ~/.praisonai/gateway). */
export function readPraisonAi(dir: string, options: PeerOptions = {}): PeerImport {
  const file = join(dir, "pairing.json");
  const parsed = praisonFile.safeParse(readJson(file));
  if (!parsed.success) throw new PeerFileError(file, `not a PraisonAI pairing file (${issueText(parsed.error)})`);
  const result: PeerImport = { records: [], skipped: [] };
  parsed.data.paired.forEach((raw, index) => {
    const where = `paired[${index}]`;
    const entry = praisonPaired.safeParse(raw);
    if (!entry.success) throw new PeerFileError(file, `${where}: ${issueText(entry.error)}`);
    const channelType = entry.data.channel_type.toLowerCase();
    const channelId = String(entry.data.channel_id);
    if (!OUR_CHANNELS.has(channelType)) {
      return unknownChannel(result, options, file, `${where}: channel type "${channelType}"`);
    }
    const label = entry.data.label?.trim() || channelId;
    const pairedAt = Math.round((entry.data.paired_at ?? statSync(file).mtimeMs / 1000) * 1000);
    result.records.push(
      checked(file, where, { type: "paired", channelType, channelId, label, pairedAt, approvedBy: "praisonai" }),
    );
  });
  return result;
}

// OpenClaw keeps each channel's approved senders in its credentials directory (~/.openclaw/credentials):
// <channel>-allowFrom.json, or <channel>-<accountId>-allowFrom.json for a non-default account, each
// {"version": 1, "allowFrom": ["<sender id>", ...]} (src/pairing/pairing-store.ts, AllowFromStore).
const openClawFile = z.looseObject({ version: z.literal(1), allowFrom: z.array(z.union([z.string(), z.number()])) });
const ALLOW_FROM = /^([a-z0-9_-]+?)(?:-([a-z0-9_-]+))?-allowFrom\.json$/;

/** Reads every `*-allowFrom.json` in `dir` (OpenClaw's credentials directory). */
export function readOpenClaw(dir: string, options: PeerOptions = {}): PeerImport {
  const files = readdirSync(dir)
    .filter((name) => ALLOW_FROM.test(name))
    .sort();
  if (files.length === 0)
    throw new PeerFileError(
      dir,
      "no <channel>-allowFrom.json files here (OpenClaw keeps them in ~/.openclaw/credentials)",
    );
  const result: PeerImport = { records: [], skipped: [] };
  for (const name of files) {
    const file = join(dir, name);
    const [, channel = "", account] = ALLOW_FROM.exec(name) ?? [];
    const parsed = openClawFile.safeParse(readJson(file));
    if (!parsed.success) throw new PeerFileError(file, `not an OpenClaw allow-from file (${issueText(parsed.error)})`);
    if (!OUR_CHANNELS.has(channel)) {
      unknownChannel(result, options, file, `channel "${channel}"`);
      continue;
    }
    const pairedAt = Math.round(statSync(file).mtimeMs);
    parsed.data.allowFrom.forEach((raw, index) => {
      const where = `allowFrom[${index}]`;
      const channelId = senderId(channel, String(raw).trim());
      if (channelId === "*") {
        result.skipped.push(
          `${file}: ${where}: "*" lets everyone in; in gatehouse that is policy "allow", not a pairing`,
        );
        return;
      }
      const label = account ? `${channelId} (OpenClaw account ${account})` : channelId;
      result.records.push(
        checked(file, where, {
          type: "paired",
          channelType: channel,
          channelId,
          label,
          pairedAt,
          approvedBy: "openclaw",
        }),
      );
    });
  }
  return result;
}

/** OpenClaw accepts prefixed entries ("telegram:123", "tg:123", "user:123") and E.164 numbers for WhatsApp. */
function senderId(channel: string, entry: string): string {
  const bare = entry.replace(/^(telegram|tg|discord|slack|whatsapp|wa|user):/i, "");
  return channel === "whatsapp" ? bare.replace(/^\+/, "") : bare;
}

function unknownChannel(result: PeerImport, options: PeerOptions, file: string, what: string): void {
  if (!options.skipUnknown) {
    throw new PeerFileError(
      file,
      `${what} is not a gatehouse channel (${[...OUR_CHANNELS].join(", ")}); --skip-unknown leaves such entries out`,
    );
  }
  result.skipped.push(`${file}: ${what} is not a gatehouse channel; left out`);
}

function checked(file: string, where: string, record: PairedRecord): PairedRecord {
  const parsed = pairedRecord.safeParse(record);
  if (!parsed.success) throw new PeerFileError(file, `${where}: ${issueText(parsed.error)}`);
  return parsed.data;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new PeerFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PeerFileError(file, "not JSON");
  }
}
