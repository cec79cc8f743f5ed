import type { SqlDialect } from "./driver.js";

/** The columns of a pending row, named as the rules name them. */
const PENDING_COLUMNS = `hash, seq, kind, channel_type AS "channelType", channel_id AS "channelId", user_name AS "userName",
  first_message AS "firstMessage", display, created_at AS "createdAt", expires_at AS "expiresAt", failures`;

/**
 * The pairing store's statements in one dialect, written once per store: each call then hands the driver the same
 * string, which the driver finds among its prepared statements without building or hashing a new one.
 */
export function pairingSql(dialect: SqlDialect) {
  const t = (name: string): string => dialect.table(name);
  const pending = t("pending");
  const live = "expires_at > ?";
  const { seqValue } = dialect;
  const pairedColumns = ["channel_type", "channel_id", "label", "paired_at", "approved_by"];
  const pairedValues = pairedColumns.map(() => "?");
  if (seqValue !== null) {
    pairedColumns.push("seq");
    pairedValues.push(seqValue);
  }
  const failureColumns = ["channel_type", "redeemer", "window_start", "count", "locked_until"];
  return {
    /** Every question generateCode asks, in one round trip. */
    generateQuestions: `SELECT (SELECT count(*) FROM ${pending} WHERE expires_at <= ?) AS expired,
           (SELECT until FROM ${t("deny_cooldowns")} WHERE channel_type = ? AND channel_id = ?) AS until,
           (SELECT display FROM ${pending} WHERE kind = 'request' AND channel_type = ? AND channel_id = ? AND ${live}) AS existing,
           (SELECT count(*) FROM ${pending} WHERE channel_type = ? AND ${live}) AS live,
           (SELECT count(*) FROM ${pending} WHERE hash = ? AND ${live}) AS taken`,
    insertPending: `INSERT INTO ${pending} (hash, kind, channel_type, channel_id, user_name, first_message, display, created_at, expires_at, failures${seqValue === null ? "" : ", seq"})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0${seqValue === null ? "" : `, ${seqValue}`})`,
    deletePending: `DELETE FROM ${pending} WHERE hash = ?`,
    deleteRequestOf: `DELETE FROM ${pending} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
    setPendingFailures: `UPDATE ${pending} SET failures = ? WHERE hash = ?`,
    pendingByHash: `SELECT ${PENDING_COLUMNS} FROM ${pending} WHERE hash = ?`,
    requestOf: `SELECT ${PENDING_COLUMNS} FROM ${pending} WHERE kind = 'request' AND channel_type = ? AND channel_id = ?`,
    listPending: `SELECT ${PENDING_COLUMNS} FROM ${pending} ORDER BY created_at, seq`,
    listPendingOfType: `SELECT ${PENDING_COLUMNS} FROM ${pending} WHERE channel_type = ? ORDER BY created_at, seq`,
    anyExpired: `SELECT 1 AS x FROM ${pending} WHERE expires_at <= ? LIMIT 1`,
    expired: `SELECT ${PENDING_COLUMNS} FROM ${pending} WHERE expires_at <= ? ORDER BY seq`,
    deleteExpired: `DELETE FROM ${pending} WHERE expires_at <= ?`,
    listPaired: `SELECT channel_id, channel_type, label, paired_at, approved_by FROM ${t("paired")} ORDER BY paired_at, seq`,
    /** One channel type's pairings: a range of the primary key (channel_type, channel_id) on every SQL backend. */
    listPairedOfType: `SELECT channel_id, channel_type, label, paired_at, approved_by FROM ${t("paired")} WHERE channel_type = ? ORDER BY paired_at, seq`,
    deletePaired: `DELETE FROM ${t("paired")} WHERE channel_type = ? AND channel_id = ?`,
    /** Writes one pairing; a renewed pairing keeps its seq (its place among pairings of the same millisecond). */
    upsertPaired: dialect.upsert(
      t("paired"),
      pairedColumns,
      ["channel_type", "channel_id"],
      ["label", "paired_at", "approved_by"],
      pairedValues,
    ),
    setCooldown: dialect.upsert(
      t("deny_cooldowns"),
      ["channel_type", "channel_id", "until"],
      ["channel_type", "channel_id"],
      ["until"],
    ),
    failureWindow: `SELECT window_start, count, locked_until FROM ${t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`,
    setFailureWindow: dialect.upsert(
      t("redeem_failures"),
      failureColumns,
      ["channel_type", "redeemer"],
      failureColumns.slice(2),
    ),
    resetFailureWindow: `DELETE FROM ${t("redeem_failures")} WHERE channel_type = ? AND redeemer = ?`,
    forgetCooldowns: `DELETE FROM ${t("deny_cooldowns")} WHERE until <= ?`,
    forgetFailureWindows: `DELETE FROM ${t("redeem_failures")} WHERE locked_until <= ? AND window_start <= ?`,
    pairedAmong: (batch: number): string =>
      `SELECT channel_type, channel_id FROM ${t("paired")} WHERE ${Array.from({ length: batch }, () => "(channel_type = ? AND channel_id = ?)").join(" OR ")}`,
  };
}

export type PairingSql = ReturnType<typeof pairingSql>;
