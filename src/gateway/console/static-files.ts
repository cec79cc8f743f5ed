import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** web/dist, found from this file both as src/gateway/console/*.ts and as dist/gateway/console/*.js. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  map: "application/json; charset=utf-8",
};

/** Only flat names like `app.js` are served: no slashes, no dot segments, a known extension. */
const FILE_NAME = /^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg|png|map)$/;

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** A built console file by name, or null when the name is not servable or the file does not exist. */
export async function readConsoleFile(dir: string, name: string): Promise<StaticFile | null> {
  const match = FILE_NAME.exec(name);
  const ext = match?.[1];
  if (ext === undefined) return null;
  const contentType = CONTENT_TYPES[ext];
  if (contentType === undefined) return null;
  try {
    return { body: await readFile(join(dir, name)), contentType };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
