/**
 * `gatehouse status` lists the gateway instances running on the store from their heartbeats: two real
 * `gatehouse start` processes on one SQLite file are listed with their pid and URL; one that stops is dropped at once
 * (its heartbeat is released), one killed with SIGKILL is dropped once its heartbeat's lease runs out.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse, startGatehouse, type CliWorkspace } from "./cli-helpers.js";

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
  }>;
}

async function status(ws: CliWorkspace, config: string): Promise<Listed> {
  const run = await runGatehouse(["status", "--json", ...ws.args, "--config", config]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Listed;
}

async function until(condition: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("gatehouse status", () => {
  it("says clearly when no instance runs, lists running ones, and drops one that stops or dies", async () => {
    const ws = cliWorkspace();
    cleanups.push(() => ws.cleanup());
    const config = join(ws.dataDir, "gatehouse.yaml");
    writeFileSync(config, `instances:\n  leaseSeconds: ${LEASE_SECONDS}\n`);

    const none = await runGatehouse(["status", ...ws.args, "--config", config]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/No gatehouse instance is running on this store \(sqlite\)/);

    const start = async () => {
      const started = await startGatehouse([...ws.args, "--config", config, "--port", "0"]);
      cleanups.push(
        () => started.child.exitCode === null && started.child.signalCode === null && started.child.kill("SIGKILL"),
      );
      return started;
    };
    const [a, b] = await Promise.all([start(), start()]);
    let listed: Listed = { instances: [] };
    await until(async () => (listed = await status(ws, config)).instances.length === 2, "both instances listed");
    expect(listed.instances.map((i) => i.pid).sort()).toEqual([a.child.pid, b.child.pid].sort());
    expect(listed.instances.map((i) => i.url).sort()).toEqual([a.url, b.url].sort());
    expect(listed.instances[0]).toMatchObject({ version: "0.1.0", channels: [], leases: [] });

    const table = await runGatehouse(["status", ...ws.args, "--config", config]);
    expect(table.stdout).toMatch(/^INSTANCE\s+HOST\s+PID\s+VERSION\s+UP\s+URL/m);
    expect(table.stdout).toContain(a.url);

    // A clean stop releases the heartbeat: gone at once, not after the lease time.
    expect(await a.stop()).toBe(0);
    listed = await status(ws, config);
    expect(listed.instances.map((i) => i.pid)).toEqual([b.child.pid]);

    // A killed one is gone once its heartbeat's lease runs out.
    b.child.kill("SIGKILL");
    await until(
      async () => (await status(ws, config)).instances.length === 0,
      "the killed instance to drop out",
      LEASE_SECONDS * 1000 + 20_000,
    );
  }, 120_000);
});
