import { readFileSync, writeFileSync } from "node:fs";
import { Command } from "commander";
import { describeSecretSource, loadGatewaySecret } from "../../pairing/secret.js";
import { openStores } from "../../stores/open.js";
import {
  exportRecords,
  ImportConflictError,
  ImportFileError,
  importRecords,
  parseExport,
  PeerFileError,
  readOpenClaw,
  readPraisonAi,
  type DataRecord,
  type ImportSummary,
  type PeerImport,
} from "../../stores/transfer/index.js";
import type { Stores } from "../../stores/types.js";
import { addCommonOptions, cliConfig, withStores, type CommonOptions } from "../environment.js";
import { refused, usageError } from "../errors.js";
import { printJson, printable, type Output } from "../output.js";

type JsonOption = { json?: boolean };

/** `gatehouse export`: the store's pairings, token hashes and audit history as JSON lines. */
export function exportCommand(io: Output): Command {
  return addCommonOptions(
    new Command("export").description("write pairings, API token hashes and the audit history as JSON lines"),
  )
    .option("--out <file>", "write to this file (created with mode 0600) instead of standard output")
    .action(async (options: CommonOptions & { out?: string }) => {
      await withStores(options, io, async ({ stores }) => {
        const lines: string[] = [];
        for await (const record of exportRecords(stores, Date.now())) lines.push(JSON.stringify(record));
        if (options.out === undefined) {
          for (const line of lines) io.out(line);
          return;
        }
        // The file holds who may talk to the agent, user names and first messages: only its owner may read it.
        writeFileSync(options.out, `${lines.join("\n")}\n`, { mode: 0o600 });
        io.err(`Wrote ${lines.length - 1} records to ${options.out}.`);
      });
    });
}

/** `gatehouse import <file>` and `gatehouse import praisonai|openclaw <dir>`. */
export function importCommand(io: Output): Command {
  const command = addCommonOptions(
    new Command("import").description(
      "put back an export (JSON lines), or take over PraisonAI's or OpenClaw's approved senders",
    ),
  )
    .argument("[file]", "a file written by gatehouse export")
    .option("--dry-run", "check the file and say what would be imported; change nothing")
    .option("--json", "print JSON")
    .action(async (file: string | undefined, options: CommonOptions & JsonOption & { dryRun?: boolean }) => {
      if (file === undefined)
        throw usageError("name the file to import (or: gatehouse import praisonai|openclaw <dir>)");
      const records = readExportFile(file);
      await importInto(io, options, records, []);
    });

  const peer = (name: string, description: string, read: (dir: string, o: { skipUnknown?: boolean }) => PeerImport) =>
    addCommonOptions(command.command(name).description(description))
      .argument("<dir>", "the directory holding the files")
      .option("--skip-unknown", "leave out senders on channels gatehouse does not have, instead of refusing")
      .option("--dry-run", "check the files and say what would be imported; change nothing")
      .option("--json", "print JSON")
      .action(async (dir: string, _options: unknown, self: Command) => {
        // --store/--data-dir/--config may be read by `import` itself (they are its options too): take both levels.
        const options = self.optsWithGlobals<
          CommonOptions & JsonOption & { dryRun?: boolean; skipUnknown?: boolean }
        >();
        let found: PeerImport;
        try {
          found = read(dir, { skipUnknown: options.skipUnknown });
        } catch (error) {
          if (error instanceof PeerFileError) throw refused(`${error.message}; nothing was imported`);
          throw error;
        }
        await importInto(io, options, found.records, found.skipped);
      });
  peer("praisonai", "approved channels from PraisonAI's gateway pairing.json (in ~/.praisonai/gateway)", readPraisonAi);
  peer(
    "openclaw",
    "approved senders from OpenClaw's <channel>-allowFrom.json files (in ~/.openclaw/credentials)",
    readOpenClaw,
  );
  return command;
}

/** `gatehouse migrate --from URL --to URL`: export from one store and import into another, with the same secret. */
export function migrateCommand(io: Output): Command {
  return addCommonOptions(
    new Command("migrate").description("move pairings, API tokens and the audit history from one store to another"),
  )
    .requiredOption("--from <url>", "the store to read (e.g. sqlite:./.gatehouse/gatehouse.db)")
    .requiredOption("--to <url>", "the store to write (e.g. postgres://…, mysql://…, redis://…)")
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & JsonOption & { from: string; to: string }) => {
      if (options.from === options.to) throw usageError("--from and --to name the same store");
      const config = cliConfig(options);
      const secret = loadGatewaySecret(config.dataDir);
      const secretSource = describeSecretSource(config.dataDir);
      // Both stores are opened with this data directory's secret; each refuses it if it was first used with another one.
      const source = await openStores(options.from, { secret, secretSource });
      try {
        const records: DataRecord[] = [];
        for await (const record of exportRecords(source, Date.now())) if ("type" in record) records.push(record);
        const target = await openStores(options.to, { secret, secretSource });
        try {
          const summary = await runImport(target, records);
          report(io, options, summary, [], `Migrated from ${source.backend} to ${target.backend}`);
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
}

function readExportFile(file: string): DataRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw refused(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return parseExport(text).records;
  } catch (error) {
    if (error instanceof ImportFileError) throw refused(`${file} ${error.message}; nothing was imported`);
    throw error;
  }
}

async function importInto(
  io: Output,
  options: CommonOptions & JsonOption & { dryRun?: boolean },
  records: DataRecord[],
  skipped: string[],
): Promise<void> {
  if (options.dryRun) {
    const count = (type: DataRecord["type"]) => records.filter((r) => r.type === type).length;
    const plan = { pairings: count("paired"), tokens: count("token"), audit: count("audit"), skipped };
    if (options.json) return printJson(io, { dryRun: true, ...plan });
    io.out(
      `Would import ${plan.pairings} pairings, ${plan.tokens} API tokens and ${plan.audit} audit events (nothing changed).`,
    );
    for (const r of records)
      if (r.type === "paired") io.out(`  ${r.channelType}  ${printable(r.channelId)}  ${printable(r.label)}`);
    for (const line of skipped) io.out(`Left out: ${printable(line)}`);
    return;
  }
  await withStores(options, io, async ({ stores }) => {
    report(io, options, await runImport(stores, records), skipped, `Imported into ${stores.backend}`);
  });
}

async function runImport(stores: Stores, records: DataRecord[]): Promise<ImportSummary> {
  try {
    return await importRecords(stores, records);
  } catch (error) {
    if (error instanceof ImportConflictError) throw refused(error.message);
    throw error;
  }
}

function report(io: Output, options: JsonOption, summary: ImportSummary, skipped: string[], what: string): void {
  if (options.json) return printJson(io, { ...summary, skipped });
  const { paired, tokens, audit } = summary;
  io.out(
    `${what}: ${paired.added} pairings added (${paired.present} already there), ${tokens.added} API tokens added (${tokens.present} already there).`,
  );
  if (summary.method === "restore")
    io.out(`Audit history: ${audit.added} events added (${audit.present} already there).`);
  else if (audit.notKept > 0 || paired.added > 0) {
    io.out(
      `This store cannot restore records as they were: pairings were approved now, and ${audit.notKept} audit events stay only in the file.`,
    );
  }
  for (const line of skipped) io.out(`Left out: ${printable(line)}`);
}
