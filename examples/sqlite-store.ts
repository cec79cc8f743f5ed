/**
 * A TypeScript port of the SQLite pairing store in the shape of PraisonAI's protocol docs, run against gatehouse: one
 * table of pending codes (8 hex digits, upper case, with an expiry) and one of pairings keyed by channel type and id.
 * It keeps the required rules (docs/protocols.md#the-pairing-rules): approve runs in one IMMEDIATE transaction (SQLite's
 * write lock), so of racing approvals across processes exactly one wins; only the requester can be paired by a request
 * code, and an empty `userId` means the requester. Several processes may open the same file.
 *
 *   const gateway = createGateway({ pairingStore: createSqliteExampleStore("./pairing.db") });
 */
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import type { PairedChannel, PairingProtocol, PendingRequest } from "gatehouse";
import { pendingRequest } from "./pending.js";

export interface SqliteExampleOptions {
  /** How long a code lives, seconds. Default 300. */
  ttlSeconds?: number;
}

interface PendingRow {
  code: string;
  channel_type: string;
  channel_id: string;
  created_at: number;
}

export function createSqliteExampleStore(
  file: string,
  options: SqliteExampleOptions = {},
): PairingProtocol & { close(): void } {
  const ttlMs = (options.ttlSeconds ?? 300) * 1000;
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(`
    CREATE TABLE IF NOT EXISTS pairing_codes (
      code TEXT PRIMARY KEY, channel_type TEXT NOT NULL, channel_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS paired_channels (
      channel_type TEXT NOT NULL, channel_id TEXT NOT NULL, user_name TEXT NOT NULL, paired_at INTEGER NOT NULL,
      PRIMARY KEY (channel_type, channel_id)
    );
  `);
  const insertCode = db.prepare("INSERT INTO pairing_codes VALUES (?, ?, ?, ?, ?)");
  const findCode = db.prepare<[string, number], PendingRow>(
    "SELECT code, channel_type, channel_id, created_at FROM pairing_codes WHERE code = ? AND expires_at > ?",
  );
  const deleteCode = db.prepare("DELETE FROM pairing_codes WHERE code = ?");
  const pair = db.prepare("INSERT OR REPLACE INTO paired_channels VALUES (?, ?, ?, ?)");
  const isPaired = db.prepare<[string, string], { found: number }>(
    "SELECT 1 AS found FROM paired_channels WHERE channel_type = ? AND channel_id = ?",
  );
  const unpair = db.prepare("DELETE FROM paired_channels WHERE channel_type = ? AND channel_id = ?");
  const paired = db.prepare<[], { channel_type: string; channel_id: string; user_name: string; paired_at: number }>(
    "SELECT * FROM paired_channels ORDER BY paired_at",
  );
  const pending = db.prepare<[number], PendingRow>(
    "SELECT code, channel_type, channel_id, created_at FROM pairing_codes WHERE expires_at > ? ORDER BY created_at",
  );

  const approve = db.transaction((channelType: string, code: string, userId: string, userName: string): boolean => {
    const row = findCode.get(code, Date.now());
    if (!row || row.channel_type !== channelType) return false;
    const who = userId || row.channel_id;
    if (who === "" || (row.channel_id !== "" && who !== row.channel_id)) return false; // only the requester
    deleteCode.run(code);
    pair.run(channelType, who, userName, Date.now());
    return true;
  });

  return {
    generateCode(channelType = "unknown", channelId?: string) {
      const code = randomBytes(4).toString("hex").toUpperCase();
      const now = Date.now();
      insertCode.run(code, channelType, channelId ?? "", now, now + ttlMs);
      return code;
    },
    approve: (channelType, code, userId = "", userName = "") =>
      approve.immediate(channelType, String(code).trim().toUpperCase(), userId, userName),
    isPaired: (channelId, channelType) => isPaired.get(channelType, channelId) !== undefined,
    listPaired: (): PairedChannel[] =>
      paired.all().map((r) => ({
        channelType: r.channel_type,
        channelId: r.channel_id,
        label: r.user_name,
        pairedAt: r.paired_at,
      })),
    revoke: (channelId, channelType) => unpair.run(channelType, channelId).changes > 0,
    listPending(channelType?: string): PendingRequest[] {
      return pending
        .all(Date.now())
        .filter((r) => channelType === undefined || r.channel_type === channelType)
        .map((r) =>
          pendingRequest(
            { code: r.code, channelType: r.channel_type, channelId: r.channel_id, createdAt: r.created_at },
            Date.now(),
          ),
        );
    },
    close: () => db.close(),
  };
}
