import { CommanderError } from "commander";
import { ConfigError } from "../config/errors.js";
import { DataDirError } from "../pairing/data-dir.js";
import {
  PairingCooldownError,
  PairingInputError,
  PairingLimitError,
  StoreUnavailableError,
} from "../pairing/errors.js";

/** Exit codes, documented in `gatehouse --help`. */
export const EXIT_OK = 0;
/** Refused or failed: not approved, not found, store unavailable. */
export const EXIT_REFUSED = 1;
/** Usage or configuration error: bad arguments, invalid config, bad input. */
export const EXIT_USAGE = 2;

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  refused or failed (code not found or expired, nothing to revoke, store unavailable, a doctor check failed)
  2  usage or configuration error (bad arguments, invalid gatehouse.yaml or GATEHOUSE_* value, unusable data directory)`;

/** An error the CLI reports as one line on stderr with a chosen exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_REFUSED,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT_USAGE);
export const refused = (message: string) => new CliError(message, EXIT_REFUSED);

/** Codes of GatewayError (src/gateway/errors.ts) that mean the caller's input was wrong. */
const USAGE_CODES = new Set(["invalid_request", "invalid_json"]);

/** What to print and which code to exit with, for any error a command threw. Never includes secrets. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CommanderError) return { message: "", exitCode: error.exitCode === 0 ? EXIT_OK : EXIT_USAGE };
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof DataDirError)
    return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof PairingInputError) return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof PairingLimitError || error instanceof PairingCooldownError)
    return { message: error.message, exitCode: EXIT_REFUSED };
  if (error instanceof StoreUnavailableError) return { message: error.message, exitCode: EXIT_REFUSED };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.name === "GatewayError" && typeof code === "string") {
      return { message: error.message, exitCode: USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_REFUSED };
    }
    if (error instanceof TypeError && /store URL|unsupported store/.test(error.message)) {
      return { message: error.message, exitCode: EXIT_USAGE };
    }
    return { message: `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`, exitCode: EXIT_REFUSED };
  }
  return { message: "unexpected failure", exitCode: EXIT_REFUSED };
}
