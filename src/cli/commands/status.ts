import { Command } from "commander";
import { INSTANCE_RETENTION_MS, listInstances } from "../../core/instances.js";
import { addCommonOptions, withStores, type CommonOptions } from "../environment.js";
import { refused } from "../errors.js";
import { formatAge, printJson, printTable, type Output } from "../output.js";

/**
 * `gatehouse status`: the gateway instances on this store, from their heartbeats (each running instance renews one
 * every few seconds; a stopped one releases it). One that died without stopping is listed as stale, with when it was
 * last seen, until its heartbeat is older than the retention (a day), when it is pruned from the store.
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
        const now = Date.now();
        const instances = await listInstances(stores.leases, now);
        if (options.json) return printJson(io, { instances, retentionMs: INSTANCE_RETENTION_MS });
        const ago = (at: number): string => formatAge(Math.max(0, Math.floor((now - at) / 1000)));
        printTable(
          io,
          ["INSTANCE", "STATE", "HOST", "PID", "VERSION", "UP", "URL", "CHANNELS", "HOLDS"],
          instances.map((i) => [
            i.id,
            i.stale ? `stale, last seen ${ago(i.seenAt)} ago` : "live",
            i.host,
            String(i.pid),
            i.version,
            i.stale ? "-" : ago(i.startedAt),
            i.url,
            i.channels.join(",") || "-",
            i.leases.join(",") || "-",
          ]),
          `No gatehouse instance is running on this store (${stores.backend}): no live heartbeat.`,
        );
      });
    });
}
