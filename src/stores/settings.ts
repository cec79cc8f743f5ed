/**
 * Gateway-wide settings an owner changes at run time, kept in the store so every instance sharing it acts on the same
 * value at once (today: `webchat.deviceProof`). Built-in backends keep them in their meta table (Redis: one key each).
 */
export interface SettingsStore {
  /** The stored value, or null when none is stored. Throws (StoreUnavailableError) when the store cannot say. */
  get(name: string): Promise<string | null>;
  /** Stores `value`, replacing what was there. */
  set(name: string, value: string): Promise<void>;
  /** Stores `value` unless a value is stored already (atomic: of instances racing, the first wins); returns the stored one. */
  setIfAbsent(name: string, value: string): Promise<string>;
}

/** The setting that says whether webchat devices must prove a key ("required") or may be name-only ("optional"). */
export const DEVICE_PROOF_SETTING = "webchat.deviceProof";

/** Settings share the meta table with the store's own entries (the secret fingerprint); this keeps them apart. */
export function settingKey(name: string): string {
  return `setting:${name}`;
}
