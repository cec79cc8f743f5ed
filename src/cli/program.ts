import { Command, CommanderError } from "commander";
import { auditCommand } from "./commands/audit.js";
import { approvalsCommand } from "./commands/approvals.js";
import { exportCommand, importCommand, migrateCommand } from "./commands/data.js";
import { doctorCommand } from "./commands/doctor.js";
import { ownerCommand } from "./commands/owner.js";
import { pairingCommand } from "./commands/pairing.js";
import { sessionsCommand } from "./commands/sessions.js";
import { startCommand } from "./commands/start.js";
import { statusCommand } from "./commands/status.js";
import { GATEHOUSE_VERSION } from "../core/version.js";
import { tokenCommand } from "./commands/token.js";
import { describeFailure, EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE } from "./errors.js";
import { processOutput, type Output } from "./output.js";

/** The `gatehouse` program. Commander errors throw (exitOverride) so runCli decides every exit code. */
export function buildProgram(io: Output, setExitCode: (code: number) => void): Command {
  const program = new Command("gatehouse")
    .description("A gateway that puts AI agents on chat channels safely: auth, pairing and session binding.")
    .version(GATEHOUSE_VERSION)
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .addHelpText(
      "after",
      `
Every command takes --store URL, --data-dir DIR and --config FILE (default ./gatehouse.yaml when present);
GATEHOUSE_STORE, GATEHOUSE_DATA_DIR, GATEHOUSE_HOST, GATEHOUSE_PORT, GATEHOUSE_POLICY and GATEHOUSE_SECRET override the file.
Commands other than start work on the store directly, with the gateway running or stopped.
${EXIT_CODES_HELP}`,
    );
  for (const command of [
    startCommand(io),
    statusCommand(io),
    pairingCommand(io),
    ownerCommand(io),
    approvalsCommand(io),
    auditCommand(io),
    tokenCommand(io),
    sessionsCommand(io),
    doctorCommand(io, setExitCode),
    exportCommand(io),
    importCommand(io),
    migrateCommand(io),
  ]) {
    program.addCommand(command);
  }
  applyToAll(program, (command) => {
    command
      .exitOverride()
      .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });
    command.showHelpAfterError("(run with --help for usage)");
    if (command.commands.length > 0 && command !== program) command.addHelpText("after", EXIT_CODES_HELP);
  });
  return program;
}

function applyToAll(command: Command, fn: (command: Command) => void): void {
  fn(command);
  for (const sub of command.commands) applyToAll(sub, fn);
}

/** Runs the CLI and resolves with the exit code: 0 ok, 1 refused or failed, 2 usage or configuration error. */
export async function runCli(argv: string[], io: Output = processOutput): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message already; a bare group (`gatehouse pairing`) printed its help.
      // `gatehouse help` and `--help` exit 0; help shown because something was missing (a bare group) exits 2.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT_OK;
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const failure = describeFailure(error);
    if (failure.message) io.err(`gatehouse: ${failure.message}`);
    return failure.exitCode;
  }
}
