/**
 * vitest globalSetup: no test may write the default data directory (`./.gatehouse`) of the repository it runs in.
 * A test that starts the CLI or a gateway without a data dir of its own would leave a gateway secret (or a store made
 * with another one) there, and the next `npm start` in the same clone refuses with SecretMismatchError. Tests give the
 * CLI and gateways temp dirs (test/cli-helpers.ts, cliWorkspace); this check makes the run fail if one does not.
 */
import { existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";

export const REPO_DATA_DIR = resolve(import.meta.dirname, "..", "..", ".gatehouse");

export default function guardRepoDataDir(): () => void {
  // A data dir that was there before (someone ran `npm start` here) may be in use by that gateway: only a new one
  // can be blamed on the tests.
  const existedBefore = existsSync(REPO_DATA_DIR);
  return () => {
    if (existedBefore || !existsSync(REPO_DATA_DIR)) return;
    const files = readdirSync(REPO_DATA_DIR).join(", ") || "nothing yet";
    // vitest only logs an error thrown here ("error during close"): the exit code is what makes the run fail.
    process.exitCode = 1;
    throw new Error(
      `a test wrote the repository's default data directory ${REPO_DATA_DIR} (it holds: ${files}); ` +
        "give the CLI or gateway it starts a temp data dir and working directory (see test/cli-helpers.ts), " +
        "then delete that directory, or `npm start` here refuses with SecretMismatchError",
    );
  };
}
