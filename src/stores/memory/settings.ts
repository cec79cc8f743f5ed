import type { SettingsStore } from "../settings.js";

/** Settings of a memory store: gone with the process, like everything else in it. */
export class MemorySettingsStore implements SettingsStore {
  private readonly values = new Map<string, string>();

  async get(name: string): Promise<string | null> {
    return this.values.get(name) ?? null;
  }

  async set(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }

  async setIfAbsent(name: string, value: string): Promise<string> {
    if (!this.values.has(name)) this.values.set(name, value);
    return this.values.get(name) as string;
  }
}
