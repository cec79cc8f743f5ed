/**
 * vitest globalSetup: no test may write into the repository it runs in the files a gatehouse or a redis-server leaves
 * in its working directory. The default data directory `./.gatehouse` is the one that hurts: a gateway secret (or a
 * store made with another one) left there makes the next `npm start` in the same clone refuse with
 * SecretMismatchError. `dump.rdb` is what a Redis replica writes there (and a redis-server started there loads).
 * Tests give the CLI, gateways and servers temp dirs (test/cli-helpers.ts, PrivateRedis); this check makes the run
 * fail if one does not.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..", "..");
export const REPO_DATA_DIR = resolve(REPO, ".gatehouse");
const WATCHED = [REPO_DATA_DIR, resolve(REPO, "dump.rdb")];

/**
 * Notes which of `paths` exist now; the returned check throws if one exists later while it did not now. One that was
 * there before (someone ran `npm start` here) may be in use by that gateway: only a new one is blamed on the tests.
 */
export function watchPaths(paths: string[]): () => void {
  const before = new Set(paths.filter((path) => existsSync(path)));
  return () => {
    const appeared = paths.filter((path) => !before.has(path) && existsSync(path));
    if (appeared.length === 0) return;
    const described = appeared.map((path) =>
      statSync(path).isDirectory() ? `${path} (holding: ${readdirSync(path).join(", ") || "nothing yet"})` : path,
    );
    throw new Error(
      `a test wrote into the repository: ${described.join("; ")}. Give the CLI, gateway or server it starts a temp ` +
        "data dir and working directory (see test/cli-helpers.ts), then delete what it left, or `npm start` here " +
        "may refuse with SecretMismatchError",
    );
  };
}

export default function guardRepository(): () => void {
  const check = watchPaths(WATCHED);
  return () => {
    try {
      check();
    } catch (error) {
      // vitest only logs an error thrown here ("error during close"): the exit code is what makes the run fail.
      process.exitCode = 1;
      throw error;
    }
  };
}
