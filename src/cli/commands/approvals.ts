import { Command } from "commander";
import { decideApproval, listApprovals } from "../../gateway/approvals/actions.js";
import { ApprovalService } from "../../core/approvals/service.js";
import { addCommonOptions, withStores, type CliSession, type CommonOptions } from "../environment.js";
import { refused } from "../errors.js";
import { formatTime, printJson, printTable, type Output } from "../output.js";

interface Options extends CommonOptions {
  json?: boolean;
  reason?: string;
}

/** The session's context with the store's approval requests (not started: the CLI makes one call and leaves). */
function withApprovals(session: CliSession): CliSession {
  const store = session.stores.approvals;
  if (!store) throw refused(`the ${session.stores.backend} store keeps no approval requests`);
  const { events, logger } = session.context;
  return {
    ...session,
    context: { ...session.context, approvals: new ApprovalService(store, { events, logger, now: Date.now }) },
  };
}

function oneLine(value: unknown, max: number): string {
  const text = (typeof value === "string" ? value : JSON.stringify(value)) ?? "";
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `gatehouse approvals list|approve|deny`: agents' requests to run an action, decided by the owner at the CLI. */
export function approvalsCommand(io: Output): Command {
  const approvals = new Command("approvals").description("list, approve and deny agents' approval requests");

  addCommonOptions(approvals.command("list").description("pending approval requests, oldest first"))
    .option("--json", "print JSON")
    .action(async (options: Options) => {
      await withStores(options, io, async (session) => {
        const { context, actor } = withApprovals(session);
        const { approvals: pending } = await listApprovals(context, actor);
        if (options.json) return printJson(io, { approvals: pending });
        printTable(
          io,
          ["REQUEST", "TOOL", "RISK", "AGENT", "ARGUMENTS", "EXPIRES"],
          pending.map((a) => [
            a.id,
            oneLine(a.tool, 40),
            a.risk,
            oneLine(a.agent || "-", 30),
            oneLine(a.arguments, 60),
            formatTime(a.expiresAt),
          ]),
          "No pending approval requests.",
        );
      });
    });

  for (const [name, approved] of [
    ["approve", true],
    ["deny", false],
  ] as const) {
    addCommonOptions(
      approvals.command(name).description(`${name} a pending request (the first decision anywhere wins)`),
    )
      .argument("<requestId>", "the request's id (request_id)")
      .option("--reason <text>", "told to the agent with the decision")
      .option("--json", "print JSON")
      .action(async (requestId: string, options: Options) => {
        await withStores(options, io, async (session) => {
          const { context, actor } = withApprovals(session);
          const result = await decideApproval(
            context,
            actor,
            { requestId },
            approved,
            options.reason === undefined ? {} : { reason: options.reason },
          );
          if (options.json) printJson(io, result);
          if (!result.decided)
            throw refused(
              `not decided now: the request is already ${result.approval.status}${result.approval.approver ? ` (by ${result.approval.approver})` : ""}`,
            );
          if (!options.json) io.out(`${approved ? "Approved" : "Denied"} ${requestId}.`);
        });
      });
  }
  return approvals;
}
