/**
 * A token store refused an insert because a token with the same id or the same hash is already stored. It is an answer,
 * not a store failure: every built-in TokenStore throws exactly this, so a caller can tell "someone else got there first"
 * (e.g. the first-start owner token, claimed under a fixed id) from "the store is down". The message never holds the hash.
 */
export class TokenExistsError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_TOKEN_EXISTS";
  override readonly name = "TokenExistsError";

  constructor(
    /** Which unique key the insert collided on. */
    readonly field: "id" | "hash",
    id: string,
  ) {
    super(field === "id" ? `token id ${id} already exists` : "a token with this hash already exists");
  }
}
