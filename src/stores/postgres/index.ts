import type { OpenStoresOptions } from "../open.js";
import type { Stores } from "../types.js";

/** Placeholder until the postgres backend lands. */
export async function openPostgresStores(url: string, _options: OpenStoresOptions = {}): Promise<Stores> {
  throw new Error(`the postgres store is not built yet (${url.length > 0 ? "url given" : "no url"})`);
}
