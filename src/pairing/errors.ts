import { storeFailureReason } from "./store-failure.js";

/** Thrown by generateCode when a channel type already has its maximum of live pending entries. */
export class PairingLimitError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_PAIRING_LIMIT";
  override readonly name = "PairingLimitError";
  constructor(
    readonly channelType: string,
    readonly limit: number,
  ) {
    super(`too many pending pairing requests for channel type "${channelType}" (limit ${limit}); try again later`);
  }
}

/** Thrown by generateCode when the sender was denied recently and may not ask again yet. */
export class PairingCooldownError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_PAIRING_COOLDOWN";
  override readonly name = "PairingCooldownError";
  constructor(
    readonly channelType: string,
    readonly retryAfterMs: number,
  ) {
    super(
      `this sender was denied recently on "${channelType}"; they may ask again in ${Math.ceil(retryAfterMs / 60_000)} minute(s)`,
    );
  }
}

/** Bad input to a store method: names the field and what was wrong. Nothing was changed. */
export class PairingInputError extends TypeError {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_PAIRING_INPUT";
  override readonly name = "PairingInputError";
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** A backing store is unreachable or broken; callers must fail closed. */
export class StoreUnavailableError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_STORE_UNAVAILABLE";
  override readonly name = "StoreUnavailableError";
  constructor(
    readonly store: string,
    options?: { cause?: unknown },
  ) {
    const reason = storeFailureReason(options?.cause);
    super(
      reason === undefined
        ? `${store} store is temporarily unavailable`
        : `${store} store ${reason.permanent ? "cannot be used" : "is temporarily unavailable"}: ${reason.text}`,
      options,
    );
  }
}

/**
 * The store was first opened with another gateway secret (a deleted secret file, a second instance configured
 * differently): opening it anyway would void every pending code, button and console session, so it is refused.
 */
export class SecretMismatchError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_SECRET_MISMATCH";
  override readonly name = "SecretMismatchError";
  constructor(
    readonly store: string,
    readonly secretSource: string,
  ) {
    super(
      `the ${store} store was first opened with another gateway secret than ${secretSource}; restore that secret ` +
        `(${secretSource}) or point gatehouse at another store. Refusing: a new secret would void every pending code, ` +
        "approval button and console session.",
    );
  }
}

/** generateCode drew only codes that are already pending, attempt after attempt: the random source is broken. */
export class CodeGenerationError extends Error {
  /** Stable code (see src/errors.ts, ERROR_CODES). */
  readonly code = "GH_ERR_CODE_GENERATION";
  override readonly name = "CodeGenerationError";
  constructor(readonly attempts: number) {
    super(
      `could not draw an unused pairing code in ${attempts} attempts; the random source looks broken. Nothing was created.`,
    );
  }
}
