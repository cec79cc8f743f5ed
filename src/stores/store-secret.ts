import { SecretMismatchError } from "../pairing/errors.js";
import { safeEqual } from "../pairing/hashing.js";
import { describeSecretSource, loadGatewaySecret, secretFingerprint } from "../pairing/secret.js";

/** How a store that outlives the process gets the gateway secret; every such backend reads these the same way. */
export interface StoreSecretOptions {
  /** The gateway secret; the code-hashing key is derived from it. */
  secret?: Buffer;
  /** Where `secret` came from, named in errors ("GATEHOUSE_SECRET", "the secret file /srv/gh/secret"). */
  secretSource?: string;
  /** Where the gateway secret file lives when `secret` is not given. */
  dataDir?: string;
  /**
   * "adopt" (default): a store that has no fingerprint yet records this secret's. "verify": only compare (for
   * read-only checks such as `gatehouse doctor`, which must not bind a new store to a throwaway secret).
   */
  secretCheck?: "adopt" | "verify";
}

export interface StoreSecret {
  key: Buffer;
  /** What to restore when the store refuses this secret. */
  source: string;
}

/**
 * The one secret policy of every store that other processes or later runs open: `options.secret`, else the gateway
 * secret (GATEHOUSE_SECRET, else the file in `options.dataDir`, else in `defaultDataDir` when the backend has a natural
 * place on disk, as SQLite has beside its file). Otherwise the open is refused: a random per-process key would make a
 * code created by one process unapprovable by every other while it still shows in listPending.
 */
export function resolveStoreSecret(backend: string, options: StoreSecretOptions, defaultDataDir?: string): StoreSecret {
  const { secret } = options;
  if (secret !== undefined) {
    if (!Buffer.isBuffer(secret) || secret.length < 16) {
      throw new TypeError(`the ${backend} store's secret must be a Buffer of at least 16 bytes`);
    }
    return { key: secret, source: options.secretSource ?? "the secret passed as options.secret" };
  }
  const dataDir = options.dataDir ?? defaultDataDir;
  if (dataDir !== undefined || process.env.GATEHOUSE_SECRET !== undefined) {
    const dir = dataDir ?? ".gatehouse";
    return { key: loadGatewaySecret(dir), source: describeSecretSource(dir) };
  }
  throw new TypeError(
    `the ${backend} store needs the gateway secret shared by every instance: pass options.secret, set GATEHOUSE_SECRET or give options.dataDir`,
  );
}

/** Where a backend keeps the fingerprint of the secret it was first opened with (see secretFingerprint). */
export interface FingerprintKeeper {
  /** The stored fingerprint, or null when none is stored yet. */
  read(): Promise<string | null>;
  /** Stores `fingerprint` unless one is stored already (the first opener wins, atomically); returns the stored one. */
  adopt(fingerprint: string): Promise<string>;
}

/**
 * Refuses (SecretMismatchError, naming what to restore) a secret whose fingerprint differs from the one the store
 * keeps; a store with none adopts this one (unless `secretCheck` is "verify").
 */
export async function checkStoreSecret(
  backend: string,
  secret: StoreSecret,
  keeper: FingerprintKeeper,
  mode: StoreSecretOptions["secretCheck"] = "adopt",
): Promise<void> {
  const mine = secretFingerprint(secret.key);
  const stored = mode === "verify" ? await keeper.read() : await keeper.adopt(mine);
  if (stored !== null && !safeEqual(stored, mine)) throw new SecretMismatchError(backend, secret.source);
}
