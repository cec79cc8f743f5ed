import { Command, InvalidArgumentError } from "commander";
import { readAudit } from "../../core/pairing-actions.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { formatTime, printJson, printTable, type Output } from "../output.js";

function positiveInt(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new InvalidArgumentError("must be an integer from 1 to 1000");
  }
  return Number(value);
}

/** `gatehouse audit`: the store's decision log, oldest first, paged with --after. */
export function auditCommand(io: Output): Command {
  return addCommonOptions(
    new Command("audit").description("pairing decisions (requested, approved, denied, revoked, …)"),
  )
    .option("--after <id>", "only events after this event id (the `next` of a previous page)")
    .option("--limit <n>", "at most this many events (1-1000, default 100)", positiveInt)
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & { after?: string; limit?: number; json?: boolean }) => {
      await withStores(options, io, async ({ context, actor }) => {
        const page = await readAudit(context, actor, { after: options.after, limit: options.limit });
        if (options.json) return printJson(io, page);
        printTable(
          io,
          ["ID", "AT", "TYPE", "CHANNEL", "SENDER", "ACTOR"],
          page.events.map((e) => [e.id, formatTime(e.at), e.type, e.channelType, e.channelId || "-", e.actor]),
          "No audit events.",
        );
        if (page.next !== null) io.out(`More: gatehouse audit --after ${page.next}`);
      });
    });
}
