import { Command } from "commander";
import { liveInstances } from "../../core/instances.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { refused } from "../errors.js";
import { formatAge, printJson, printTable, type Output } from "../output.js";

/**
 * `gatehouse status`: the gateway instances running on this store, from their heartbeats (each running instance
 * renews one every few seconds; a stopped one removes it, a dead one's expires within the lease time).
 */
export function statusCommand(io: Output): Command {
  return addCommonOptions(
    new Command("status").description("the gateway instances running on this store (from their heartbeats)"),
  )
    .option("--json", "print JSON")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      await withStores(options, io, async ({ stores }) => {
        if (!stores.leases)
          throw refused(`the ${stores.backend} store keeps no heartbeats, so running instances cannot be listed`);
        const instances = await liveInstances(stores.leases);
        if (options.json) return printJson(io, { instances });
        const now = Date.now();
        printTable(
          io,
          ["INSTANCE", "HOST", "PID", "VERSION", "UP", "URL", "CHANNELS", "HOLDS"],
          instances.map((i) => [
            i.id,
            i.host,
            String(i.pid),
            i.version,
            formatAge(Math.max(0, Math.floor((now - i.startedAt) / 1000))),
            i.url,
            i.channels.join(",") || "-",
            i.leases.join(",") || "-",
          ]),
          `No gatehouse instance is running on this store (${stores.backend}): no live heartbeat.`,
        );
      });
    });
}
