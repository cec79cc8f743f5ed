import { Command } from "commander";
import { channelTypes } from "../../channels/registry.js";
import { createOwnerClaimCode, listOwners, revokeOwner } from "../../core/owner-actions.js";
import { idProblem } from "../../pairing/validation.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { refused, usageError } from "../errors.js";
import { formatTime, printJson, printTable, type Output } from "../output.js";
import { claimLines, configuredChatChannels, configuredOwners } from "../owners.js";

interface JsonOption {
  json?: boolean;
}

/** Owner claims work on the chat channels gatehouse ships (not webchat: a browser picks its own device id). */
function checkChatChannel(channelType: string): void {
  const known = channelTypes();
  if (!known.includes(channelType))
    throw usageError(`unknown chat channel "${channelType}": use one of ${known.join(", ")}`);
}

/** `gatehouse owner claim|list|revoke`: owners kept in the store, who claimed a channel with a one-time code. */
export function ownerCommand(io: Output): Command {
  const owner = new Command("owner").description("owner-claim codes and the owners kept in the store");

  addCommonOptions(
    owner
      .command("claim")
      .description(
        "print a one-time owner-claim code (valid 10 minutes): who sends it to the bot in a direct chat becomes an owner of that channel",
      ),
  )
    .argument("[channelType]", "chat channel, e.g. telegram; default: every channel enabled in the config")
    .option("--json", "print JSON")
    .action(async (channelType: string | undefined, options: CommonOptions & JsonOption) => {
      if (channelType !== undefined) checkChatChannel(channelType);
      await withStores(options, io, async ({ config, context, actor }) => {
        const wanted = channelType === undefined ? configuredChatChannels(config) : [channelType];
        if (wanted.length === 0)
          throw usageError("no chat channel is enabled in the config: name one, e.g. gatehouse owner claim telegram");
        const claims = [];
        for (const type of wanted) claims.push(await createOwnerClaimCode(context, actor, type));
        if (options.json) return printJson(io, { claims });
        io.out("Owner-claim codes (single use; shown only now; only a keyed hash is stored):");
        io.out(claims.flatMap(claimLines).join("\n"));
      });
    });

  addCommonOptions(
    owner.command("list").description("owners: those kept in the store (by claim) and those named in the config"),
  )
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & JsonOption) => {
      await withStores(options, io, async ({ config, context, actor }) => {
        const { owners } = await listOwners(context, actor);
        const configured = channelTypes().flatMap((channelType) =>
          configuredOwners(config, channelType).map((userId) => ({ channelType, userId })),
        );
        if (options.json) return printJson(io, { owners, configured });
        printTable(
          io,
          ["CHANNEL", "USER", "LABEL", "SINCE", "SOURCE"],
          [
            ...owners.map((o) => [o.channelType, o.userId, o.label, formatTime(o.claimedAt), "claim (store)"]),
            ...configured.map((o) => [o.channelType, o.userId, "-", "-", "config (ownerUserIds)"]),
          ],
          "No owners yet: gatehouse owner claim <channel> prints a code to claim one.",
        );
      });
    });

  addCommonOptions(owner.command("revoke").description("remove an owner kept in the store (owners in the config stay)"))
    .argument("<channelType>", "chat channel, e.g. telegram")
    .argument("<userId>", "the owner's platform user id (see owner list)")
    .option("--json", "print JSON")
    .action(async (channelType: string, userId: string, options: CommonOptions & JsonOption) => {
      checkChatChannel(channelType);
      const problem = idProblem(userId);
      if (problem) throw usageError(`userId ${problem}`);
      await withStores(options, io, async ({ context, actor }) => {
        const { revoked } = await revokeOwner(context, actor, channelType, userId);
        if (options.json) printJson(io, { revoked });
        if (!revoked)
          throw refused(
            `not revoked: ${userId} is not an owner of ${channelType} kept in the store (owners in the config are removed there)`,
          );
        if (!options.json) io.out(`Revoked ${channelType} owner ${userId}.`);
      });
    });

  return owner;
}
