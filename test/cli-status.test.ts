/**
 * `gatehouse status` lists the gateway instances on the store from their heartbeats, on SQLite and on a shared Redis:
 * two real `gatehouse start` processes are listed with their pid and URL; one that stops is dropped at once (its
 * heartbeat is released); one killed with SIGKILL is listed as stale with when it was last seen; heartbeats older
 * than the retention (a day) are pruned from the store, by a running instance and by `gatehouse status` itself.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INSTANCE_RETENTION_MS, liveInstances } from "../src/core/instances.js";
import { loadGatewaySecret } from "../src/pairing/secret.js";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { cliWorkspace, runGatehouse, startGatehouse } from "./cli-helpers.js";
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from "./redis-support.js";
import { until } from "./support/until.js";

const LEASE_SECONDS = 2;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

interface Listed {
  instances: Array<{
    id: string;
    pid: number;
    url: string;
    host: string;
    version: string;
    channels: string[];
    leases: string[];
    stale: boolean;
    seenAt: number;
  }>;
  retentionMs: number;
}

const redis = await requireRedis();
const stores = [
  { name: "sqlite", available: true, url: (dataDir: string) => `sqlite:${join(dataDir, "gatehouse.db")}` },
  {
    name: "redis",
    available: redis,
    url: () => {
      const prefix = uniquePrefix();
      cleanups.push(() => deleteKeys(prefix));
      return `${REDIS_URL}?prefix=${prefix}`;
    },
  },
];

describe.each(stores)("gatehouse status on $name", (backend) => {
  it.skipIf(!backend.available)(
    "says when none runs, lists running ones, drops a stopped one, shows a killed one as stale and prunes old ones",
    async () => {
      const ws = cliWorkspace();
      cleanups.push(() => ws.cleanup());
      const store = backend.url(ws.dataDir);
      const args = ["--data-dir", ws.dataDir, "--store", store];
      const config = join(ws.dataDir, "gatehouse.yaml");
      writeFileSync(config, `instances:\n  leaseSeconds: ${LEASE_SECONDS}\n`);
      const open = async (now?: () => number): Promise<Stores> => {
        const opened = await openStores(store, { secret: loadGatewaySecret(ws.dataDir, {}), dataDir: ws.dataDir, now });
        cleanups.push(() => opened.close());
        return opened;
      };
      const mine = await open();
      // A handle whose clock runs a day and an hour behind: heartbeats it writes died longer ago than the retention.
      const dayAgo = await open(() => Date.now() - INSTANCE_RETENTION_MS - 3_600_000);
      const seedDeadInstance = async (id: string): Promise<void> => {
        const lease = await dayAgo.leases!.acquire(`instance:${id}`, id, LEASE_SECONDS * 1000);
        const record = { id, host: "gone", pid: 1, version: "0.0.1", startedAt: 1, seenAt: 1, url: "http://x" };
        expect(await dayAgo.leases!.commit(lease!, JSON.stringify(record))).toBe(true);
      };
      const status = async (): Promise<Listed> => {
        const run = await runGatehouse(["status", "--json", ...args, "--config", config]);
        expect(run.code, run.stderr).toBe(0);
        return JSON.parse(run.stdout) as Listed;
      };

      const none = await runGatehouse(["status", ...args, "--config", config]);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toMatch(new RegExp(`No gatehouse instance is running on this store \\(${backend.name}\\)`));

      // A heartbeat a day old when the instances start: the first running instance prunes it.
      await seedDeadInstance("longgone1");
      expect(await mine.leases!.current("instance:longgone1")).not.toBeNull();
      const start = async () => {
        const started = await startGatehouse([...args, "--config", config, "--port", "0"]);
        cleanups.push(
          () => started.child.exitCode === null && started.child.signalCode === null && started.child.kill("SIGKILL"),
        );
        return started;
      };
      const [a, b] = await Promise.all([start(), start()]);
      await until(async () => (await liveInstances(mine.leases!)).length === 2, "both heartbeats", 30_000);
      expect(await mine.leases!.current("instance:longgone1")).toBeNull();

      // One a day old written while they run: `gatehouse status` prunes it before listing.
      await seedDeadInstance("longgone2");
      let listed = await status();
      expect(await mine.leases!.current("instance:longgone2")).toBeNull();
      expect(listed.retentionMs).toBe(INSTANCE_RETENTION_MS);
      expect(listed.instances.map((i) => i.pid).sort()).toEqual([a.child.pid, b.child.pid].sort());
      expect(listed.instances.map((i) => i.url).sort()).toEqual([a.url, b.url].sort());
      expect(listed.instances[0]).toMatchObject({ version: "0.1.0", channels: [], leases: [], stale: false });

      const table = await runGatehouse(["status", ...args, "--config", config]);
      expect(table.stdout).toMatch(/^INSTANCE\s+STATE\s+HOST\s+PID\s+VERSION\s+UP\s+URL/m);
      expect(table.stdout).toMatch(new RegExp(`\\blive\\b.*${a.child.pid}.*${a.url.replace(/[.]/g, "\\.")}`));

      // A clean stop releases the heartbeat: gone at once, not listed as stale.
      expect(await a.stop()).toBe(0);
      listed = await status();
      expect(listed.instances.map((i) => i.pid)).toEqual([b.child.pid]);

      // A killed one stays listed, as stale, once its heartbeat's lease runs out; last seen just before the kill.
      b.child.kill("SIGKILL");
      const killedAt = Date.now();
      await until(
        async () => (listed = await status()).instances.every((i) => i.stale),
        "the killed instance to turn stale",
        LEASE_SECONDS * 1000 + 20_000,
      );
      expect(listed.instances).toHaveLength(1);
      expect(listed.instances[0]).toMatchObject({ pid: b.child.pid, stale: true });
      expect(listed.instances[0]!.seenAt).toBeLessThanOrEqual(killedAt);
      expect(listed.instances[0]!.seenAt).toBeGreaterThan(killedAt - LEASE_SECONDS * 1000);
      const stale = await runGatehouse(["status", ...args, "--config", config]);
      expect(stale.stdout).toMatch(new RegExp(`stale, last seen \\d+s ago\\s+\\S+\\s+${b.child.pid}\\s`));
      expect(stale.stdout).not.toMatch(/No gatehouse instance/);
      expect(await liveInstances(mine.leases!)).toEqual([]);
    },
    120_000,
  );
});
