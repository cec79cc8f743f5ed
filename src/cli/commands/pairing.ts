import { Command } from "commander";
import {
  approvePairing,
  createInvite,
  denyPairing,
  listPaired,
  listPending,
  revokePairing,
} from "../../core/pairing-actions.js";
import { allowLegacyDevices, isLegacyDevice, requireDeviceProof } from "../../core/device-proof-actions.js";
import { boundedCode } from "../../pairing/codes.js";
import { channelTypeProblem, idProblem } from "../../pairing/validation.js";
import { assertUsableChannelType, builtInChannelTypes, channelTypeOfCode } from "../channel-choice.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { refused, usageError } from "../errors.js";
import { formatAge, formatTime, printJson, printTable, type Output } from "../output.js";

interface JsonOption {
  json?: boolean;
}

function checkChannelType(value: string): void {
  const problem = channelTypeProblem(value);
  if (problem) throw usageError(`channelType ${problem}`);
}

function checkCode(value: string): void {
  if (boundedCode(value) === null) {
    throw usageError("code must be 4-64 letters and digits, with dashes or spaces between them (e.g. ABCD-EFGH)");
  }
}

function checkId(value: string, field: string): void {
  const problem = idProblem(value);
  if (problem) throw usageError(`${field} ${problem}`);
}

/** `gatehouse pairing list|approve|deny|revoke|invite|paired`: owner decisions on the configured store. */
export function pairingCommand(io: Output): Command {
  const pairing = new Command("pairing").description("list, approve, deny and revoke pairings; create invites");

  addCommonOptions(pairing.command("list").description("pending pairing requests and invites"))
    .argument("[channelType]", "only this channel type")
    .option("--json", "print JSON")
    .action(async (channelType: string | undefined, options: CommonOptions & JsonOption) => {
      if (channelType !== undefined) checkChannelType(channelType);
      await withStores(options, io, async (session) => {
        const { context, actor } = session;
        if (channelType !== undefined) await assertUsableChannelType(session, channelType);
        const { pending } = await listPending(context, actor, channelType === undefined ? {} : { channelType });
        if (options.json) return printJson(io, { pending });
        printTable(
          io,
          ["CODE", "CHANNEL", "SENDER", "NAME", "AGE", "KIND"],
          pending.map((p) => [
            p.code,
            p.channelType,
            sender(p.channelType, p.channelId) || "-",
            p.userName || "-",
            formatAge(p.ageSeconds),
            p.kind,
          ]),
          "No pending pairing requests.",
        );
      });
    });

  addCommonOptions(
    pairing.command("approve").description("approve a pending request (or redeem an invite for --user-id)"),
  )
    // Commander fills arguments left to right, so "[channelType] <code>" is read as "<first> [second]".
    .argument(
      "<channelType>",
      "channel type, e.g. telegram; may be left out when the code is pending on one channel type",
    )
    .argument("[code]", "the pairing code, e.g. ABCD-EFGH")
    .usage("[options] [channelType] <code>")
    .option("--user-id <id>", "for an invite: the sender to pair; for a request: must be its sender")
    .option("--label <label>", "a name for the pairing")
    .option("--json", "print JSON")
    .action(
      async (
        first: string,
        second: string | undefined,
        options: CommonOptions & JsonOption & { userId?: string; label?: string },
      ) => {
        if (second === undefined && builtInChannelTypes().includes(first))
          throw usageError("missing required argument 'code'");
        const [given, code] = second === undefined ? [undefined, first] : [first, second];
        if (given !== undefined) checkChannelType(given);
        checkCode(code);
        if (options.userId !== undefined) checkId(options.userId, "--user-id");
        await withStores(options, io, async (session) => {
          const { context, actor } = session;
          if (given !== undefined) await assertUsableChannelType(session, given);
          const channelType = given ?? (await channelTypeOfCode(session, code));
          const input = { channelType, code, userId: options.userId, label: options.label };
          const { approved } = await approvePairing(context, actor, input);
          if (options.json) printJson(io, { approved });
          if (!approved)
            throw refused(
              `not approved: no live ${channelType} pairing code matches (unknown, expired, already used, or --user-id does not fit)`,
            );
          if (!options.json) io.out(`Approved ${channelType} pairing.`);
        });
      },
    );

  addCommonOptions(
    pairing.command("deny").description("refuse a pending request (the sender is told and put on cooldown)"),
  )
    .argument("<channelType>", "channel type")
    .argument("<code>", "the pairing code")
    .option("--json", "print JSON")
    .action(async (channelType: string, code: string, options: CommonOptions & JsonOption) => {
      checkChannelType(channelType);
      checkCode(code);
      await withStores(options, io, async (session) => {
        const { context, actor } = session;
        await assertUsableChannelType(session, channelType);
        const { denied } = await denyPairing(context, actor, { channelType, code });
        if (options.json) printJson(io, { denied });
        if (!denied) throw refused(`not denied: no live ${channelType} pairing request matches that code`);
        if (!options.json) io.out(`Denied ${channelType} pairing request.`);
      });
    });

  addCommonOptions(pairing.command("revoke").description("remove a pairing (open sessions of that sender are closed)"))
    .argument("<channelType>", "channel type")
    .argument("<channelId>", "the paired sender's id")
    .option("--json", "print JSON")
    .action(async (channelType: string, channelId: string, options: CommonOptions & JsonOption) => {
      checkChannelType(channelType);
      checkId(channelId, "channelId");
      await withStores(options, io, async (session) => {
        const { context, actor } = session;
        await assertUsableChannelType(session, channelType);
        const { revoked } = await revokePairing(context, actor, { channelType, channelId });
        if (options.json) printJson(io, { revoked });
        if (!revoked) throw refused(`not revoked: ${channelType} sender ${channelId} is not paired`);
        if (!options.json) io.out(`Revoked ${channelType} pairing of ${channelId}.`);
      });
    });

  addCommonOptions(
    pairing.command("invite").description("create an invite code someone redeems on the channel (shown once)"),
  )
    .argument("<channelType>", "channel type")
    .option("--json", "print JSON")
    .action(async (channelType: string, options: CommonOptions & JsonOption) => {
      checkChannelType(channelType);
      await withStores(options, io, async (session) => {
        const { context, actor } = session;
        await assertUsableChannelType(session, channelType);
        const invite = await createInvite(context, actor, { channelType });
        if (options.json) return printJson(io, invite);
        io.out(`Invite code for ${channelType}: ${invite.code}`);
        io.out(`Valid until ${formatTime(invite.expiresAt)}, single use. It is shown only now; share it privately.`);
      });
    });

  addCommonOptions(pairing.command("paired").description("paired senders"))
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & JsonOption) => {
      await withStores(options, io, async ({ context, actor }) => {
        const { paired } = await listPaired(context, actor);
        if (options.json) return printJson(io, { paired });
        printTable(
          io,
          ["CHANNEL", "SENDER", "LABEL", "PAIRED AT", "APPROVED BY"],
          paired.map((p) => [
            p.channelType,
            sender(p.channelType, p.channelId),
            p.label,
            formatTime(p.pairedAt),
            p.approvedBy ?? "-",
          ]),
          "No paired senders.",
        );
      });
    });

  addCommonOptions(
    pairing
      .command("require-proof")
      .description(
        "require device keys from every webchat device, on every instance; name-only devices are revoked and must pair again with a key",
      ),
  )
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & JsonOption) => {
      await withStores(options, io, async ({ context, actor, stores }) => {
        const result = await requireDeviceProof(context, actor, stores.settings);
        if (options.json) return printJson(io, { deviceProof: "required", ...result });
        io.out(`Webchat devices must now prove a key (webchat.deviceProof: required in the store).`);
        io.out(
          `Revoked ${result.revoked} name-only device(s) and denied ${result.denied} pending request(s) of such devices; they must pair again with a key.`,
        );
      });
    });

  addCommonOptions(
    pairing
      .command("allow-legacy")
      .description(
        "let name-only webchat devices connect again (unless gatehouse.yaml sets webchat.deviceProof: required)",
      ),
  )
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & JsonOption) => {
      await withStores(options, io, async ({ context, actor, stores, config }) => {
        await allowLegacyDevices(context, actor, stores.settings);
        if (options.json) return printJson(io, { deviceProof: config.webchat?.deviceProof ?? "optional" });
        if (config.webchat?.deviceProof === "required")
          io.out("Stored, but gatehouse.yaml sets webchat.deviceProof: required, which stays in force.");
        else io.out("Name-only webchat devices may connect again (webchat.deviceProof: optional in the store).");
      });
    });

  return pairing;
}

/** A sender id as listed: name-only webchat devices are marked, since their id alone lets anyone in. */
function sender(channelType: string, channelId: string): string {
  return isLegacyDevice(channelType, channelId) ? `${channelId} (legacy: no device key)` : channelId;
}
