import { Command } from "commander";
import { showSession } from "../../core/pairing-actions.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { refused } from "../errors.js";
import { printJson, type Output } from "../output.js";

/** `gatehouse sessions show <id>`: who a session is bound to. */
export function sessionsCommand(io: Output): Command {
  const sessions = new Command("sessions").description("session bindings");
  addCommonOptions(sessions.command("show").description("the principal bound to a session"))
    .argument("<id>", "session id")
    .option("--json", "print JSON")
    .action(async (id: string, options: CommonOptions & { json?: boolean }) => {
      await withStores(options, io, async ({ context, actor }) => {
        let principal: Awaited<ReturnType<typeof showSession>>["principal"];
        try {
          ({ principal } = await showSession(context, actor, { id }));
        } catch (error) {
          if ((error as { code?: unknown }).code === "not_found")
            throw refused("no session with this id (unknown or expired)");
          throw error;
        }
        if (options.json) return printJson(io, { principal });
        for (const [key, value] of Object.entries(principal)) io.out(`${key}: ${JSON.stringify(value)}`);
      });
    });
  return sessions;
}
