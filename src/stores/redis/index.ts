import type { OpenStoresOptions } from "../open.js";
import type { Stores } from "../types.js";

/** Placeholder until the redis backend lands. */
export async function openRedisStores(url: string, _options: OpenStoresOptions = {}): Promise<Stores> {
  throw new Error(`the redis store is not built yet (${url.length > 0 ? "url given" : "no url"})`);
}
