/**
 * The real cause of a store failure in words that carry no secret, for StoreUnavailableError's message. Only causes
 * known to be safe are described: PostgreSQL's and MariaDB's authentication and missing-database answers (they name the
 * user and the database, never the password) and socket errors (host and port). Anything else (a query error can quote row values)
 * is left out of the message; it stays in `cause` for whoever handles the error.
 */
export interface StoreFailureReason {
  /** Configuration that will not fix itself (wrong user, missing database): "cannot be used" rather than "temporarily". */
  permanent: boolean;
  text: string;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed (DNS)",
};

export function storeFailureReason(cause: unknown): StoreFailureReason | undefined {
  if (cause === null || typeof cause !== "object") return undefined;
  const { code, message, address, port, hostname } = cause as {
    code?: unknown;
    message?: unknown;
    address?: unknown;
    port?: unknown;
    hostname?: unknown;
  };
  // Redis answers a refused login with an error reply whose first word says why (it never repeats the password).
  if (typeof message === "string" && /^(WRONGPASS|NOAUTH)\b/.test(message)) {
    return { permanent: true, text: "authentication failed: check the user and password in the URL" };
  }
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  const socketProblem = SOCKET_ERRORS[code];
  if (socketProblem !== undefined) {
    const where =
      typeof address === "string"
        ? `${address}${typeof port === "number" ? `:${port}` : ""}`
        : typeof hostname === "string"
          ? hostname
          : "the server";
    return { permanent: false, text: `cannot connect to ${where} (${socketProblem})` };
  }
  // PostgreSQL SQLSTATE class 28: invalid authorization (no user name, unknown role, wrong password, pg_hba refusal).
  if (/^28[0-9A-Z]{3}$/.test(code)) {
    if (/no PostgreSQL user name specified/i.test(message)) {
      return { permanent: true, text: "no user name given: add one to the URL (postgres://USER@host:5432/database)" };
    }
    return { permanent: true, text: clip(message) };
  }
  if (code === "3D000")
    return { permanent: true, text: `${clip(message)}: create it or fix the database name in the URL` };
  return mariadbReason(code, message);
}

/** MariaDB/MySQL (mysql2 error codes): refused logins and unknown databases, which name the user or database only. */
function mariadbReason(code: string, message: string): StoreFailureReason | undefined {
  if (code === "ER_ACCESS_DENIED_ERROR" || code === "ER_DBACCESS_DENIED_ERROR") {
    const user = /for user '([^']*)'/.exec(message)?.[1];
    return {
      permanent: true,
      text:
        user === undefined
          ? `access denied: ${clip(message)}`
          : `access denied for user "${clip(user)}": check the user and password in the URL`,
    };
  }
  if (code === "ER_BAD_DB_ERROR") {
    const database = /database '([^']*)'/i.exec(message)?.[1] ?? "";
    return {
      permanent: true,
      text: `database "${clip(database)}" does not exist: create it or fix the database name in the URL`,
    };
  }
  return undefined;
}

/** Server messages are short; a hostile or broken server could send anything, so keep one line of bounded length. */
function clip(message: string): string {
  const line = message.split(/[\r\n]/, 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
