import type { OpenStoresOptions } from "../open.js";
import type { Stores } from "../types.js";

/** Placeholder until the sqlite backend lands. */
export async function openSqliteStores(url: string, _options: OpenStoresOptions = {}): Promise<Stores> {
  throw new Error(`the sqlite store is not built yet (${url.length > 0 ? "url given" : "no url"})`);
}
