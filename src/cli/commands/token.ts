import { Command } from "commander";
import { mintToken, roleProblem, type MintedToken } from "../../auth/token.js";
import { KNOWN_ROLES } from "../../core/identity-lists.js";
import { addCommonOptions, requireTokens, withStores, type CommonOptions } from "../environment.js";
import { refused, usageError } from "../errors.js";
import { formatTime, printJson, printTable, type Output } from "../output.js";

/** `gatehouse token create|list|revoke`: API tokens for the HTTP API and WebSocket (only hashes are stored). */
export function tokenCommand(io: Output): Command {
  const token = new Command("token").description("API tokens (Authorization: Bearer) with roles");

  addCommonOptions(token.command("create").description("create a token; it is printed once and only its hash is kept"))
    .requiredOption("--role <role>", `role: ${KNOWN_ROLES.join(", ")}`)
    .option("--user-id <id>", "the user the token acts as (default token:<id>)")
    .option("--label <label>", "a note to recognise the token by")
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & { role: string; userId?: string; label?: string; json?: boolean }) => {
      const problem = roleProblem(options.role);
      if (problem) throw usageError(`--role ${problem}`);
      // A role nothing gives meaning to makes a token that is 403 everywhere: refuse it here instead.
      if (!KNOWN_ROLES.includes(options.role))
        throw usageError(`--role must be one of ${KNOWN_ROLES.join(", ")} (got "${options.role}")`);
      await withStores(options, io, async ({ stores }) => {
        let minted: MintedToken;
        try {
          minted = await mintToken(requireTokens(stores), {
            role: options.role,
            userId: options.userId,
            label: options.label,
          });
        } catch (error) {
          if (error instanceof TypeError) throw usageError(error.message);
          throw error;
        }
        const { id, token: secret, record } = minted;
        if (options.json)
          return printJson(io, { id, token: secret, role: record.role, userId: record.userId, label: record.label });
        io.out(`Created token ${id} (role ${record.role}, user ${record.userId}).`);
        io.out(secret);
        io.out("This is the only time it is shown; only its hash is stored.");
      });
    });

  addCommonOptions(token.command("list").description("tokens (ids, roles and labels; never the tokens)"))
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      await withStores(options, io, async ({ stores }) => {
        const tokens = (await requireTokens(stores).list()).map(({ hash: _hash, ...visible }) => visible);
        if (options.json) return printJson(io, { tokens });
        printTable(
          io,
          ["ID", "ROLE", "USER", "LABEL", "CREATED"],
          tokens.map((t) => [t.id, t.role, t.userId, t.label || "-", formatTime(t.createdAt)]),
          "No API tokens.",
        );
      });
    });

  addCommonOptions(token.command("revoke").description("delete a token; it stops working on the next request"))
    .argument("<id>", "the token id (tok_…)")
    .option("--json", "print JSON")
    .action(async (id: string, options: CommonOptions & { json?: boolean }) => {
      await withStores(options, io, async ({ stores }) => {
        const revoked = await requireTokens(stores).delete(id);
        if (options.json) printJson(io, { revoked });
        if (!revoked) throw refused(`no token with id ${id}`);
        if (!options.json) io.out(`Revoked token ${id}.`);
      });
    });

  return token;
}
