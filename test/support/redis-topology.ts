/**
 * Real Redis topologies of the test's own: `redis-server` processes on spare loopback ports in a temp dir, a Sentinel
 * set-up (master, replica, three Sentinels) or a Cluster (three masters, one replica for the store's slot). Every
 * process is killed and the dir removed by `stop()`, which tests call in `finally`/`afterAll` (and which a process
 * exit also triggers, so nothing outlives a failed run).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { sparePort } from "../redis-support.js";

const HOST = "127.0.0.1";
const START_DEADLINE_MS = 20_000;

/** Whether redis-server and redis-cli are here; with CI=true their absence fails the run instead of skipping. */
export async function requireRedisBinaries(purpose: string): Promise<boolean> {
  const found = await Promise.all(
    ["redis-server", "redis-cli"].map((bin) =>
      run(bin, ["--version"]).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (found.every(Boolean)) return true;
  if (process.env.CI === "true")
    throw new Error(`redis-server/redis-cli are not installed and CI=true: ${purpose} cannot run`);
  console.warn(`\n*** redis-server/redis-cli not installed: SKIPPING ${purpose} (it fails when CI=true) ***\n`);
  return false;
}

function run(bin: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${bin} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = START_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One command to one node, on a short-lived connection. */
export async function ask(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: HOST, port, connectTimeout: 2000, reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** `INFO replication` as a map. */
export async function replicationInfo(port: number): Promise<Map<string, string>> {
  const text = String(await ask(port, ["INFO", "replication"]));
  return new Map(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(":"))
      .map((line) => line.split(":", 2) as [string, string]),
  );
}

class Processes {
  readonly dir = mkdtempSync(join(tmpdir(), "gh-redis-topology-"));
  private readonly children = new Map<number, ChildProcess>();
  private readonly onExit = (): void => this.killAll();

  constructor() {
    process.once("exit", this.onExit);
  }

  /** Starts redis-server with a config file of these lines on `port` (kept for a restart), and waits for PING. */
  async start(port: number, lines: string[], sentinel = false): Promise<void> {
    const conf = join(this.dir, `${port}.conf`);
    writeFileSync(
      conf,
      [`port ${port}`, `bind ${HOST}`, `dir ${this.dir}`, 'save ""', "appendonly no", ...lines].join("\n") + "\n",
    );
    await this.launch(port, conf, sentinel);
  }

  /** Starts a killed server again with the config file it had (which it may have rewritten since), plus `lines`. */
  restart(port: number, lines: string[] = []): Promise<void> {
    const conf = join(this.dir, `${port}.conf`);
    if (lines.length > 0) appendFileSync(conf, lines.join("\n") + "\n");
    return this.launch(port, conf, false);
  }

  /** SIGSTOP / SIGCONT: a frozen process keeps its connections but answers nothing. */
  signal(port: number, signal: "SIGSTOP" | "SIGCONT"): void {
    this.children.get(port)?.kill(signal);
  }

  private async launch(port: number, conf: string, sentinel: boolean): Promise<void> {
    const child = spawn("redis-server", sentinel ? [conf, "--sentinel"] : [conf], { stdio: "ignore" });
    child.on("error", () => {});
    this.children.set(port, child);
    await waitFor(`redis ${sentinel ? "sentinel" : "server"} on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited (${child.exitCode})`);
      return (await ask(port, ["PING"])) === "PONG";
    });
  }

  /** SIGKILL: the process is gone at once, with whatever it had not replicated. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    this.children.delete(port);
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await gone;
  }

  killAll(): void {
    for (const child of this.children.values()) {
      if (child.exitCode !== null) continue;
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
    this.children.clear();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    process.off("exit", this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A master, one replica and three Sentinels watching it as `mymaster` (down after 2 s, quorum 2). */
export class SentinelSetup {
  readonly masterName = "mymaster";
  private constructor(
    private readonly processes: Processes,
    public masterPort: number,
    public replicaPort: number,
    readonly sentinelPorts: number[],
  ) {}

  static async start(): Promise<SentinelSetup> {
    const processes = new Processes();
    try {
      const [master, replica, ...sentinels] = (await Promise.all([1, 2, 3, 4, 5].map(() => sparePort()))) as [
        number,
        number,
        ...number[],
      ];
      await processes.start(master, []);
      await processes.start(replica, [`replicaof ${HOST} ${master}`]);
      await waitFor(
        "the replica in sync",
        async () => (await replicationInfo(replica)).get("master_link_status") === "up",
      );
      // each Sentinel is told its peers and the replica up front, rather than finding them in ~10 s of hellos
      const ids = new Map(sentinels.map((port) => [port, randomBytes(20).toString("hex")]));
      await Promise.all(
        sentinels.map((port) =>
          processes.start(
            port,
            [
              `sentinel myid ${ids.get(port)}`,
              `sentinel monitor mymaster ${HOST} ${master} 2`,
              "sentinel down-after-milliseconds mymaster 2000",
              "sentinel failover-timeout mymaster 4000",
              "sentinel parallel-syncs mymaster 1",
              `sentinel known-replica mymaster ${HOST} ${replica}`,
              ...sentinels
                .filter((other) => other !== port)
                .map((other) => `sentinel known-sentinel mymaster ${HOST} ${other} ${ids.get(other)}`),
            ],
            true,
          ),
        ),
      );
      const setup = new SentinelSetup(processes, master, replica, sentinels);
      // every Sentinel has found the replica and the other Sentinels, so a failover can be agreed on
      await waitFor("the Sentinels to know each other and the replica", async () => {
        for (const port of sentinels) {
          const info = (await ask(port, ["SENTINEL", "MASTER", "mymaster"])) as unknown;
          const field = (name: string): number => Number(fieldOf(info, name));
          if (field("num-other-sentinels") < 2 || field("num-slaves") < 1) return false;
        }
        return true;
      });
      return setup;
    } catch (error) {
      await processes.stop();
      throw error;
    }
  }

  url(prefix: string, extra = ""): string {
    return `redis+sentinel://${this.sentinelPorts.map((port) => `${HOST}:${port}`).join(",")}/0?name=${this.masterName}&prefix=${prefix}${extra}`;
  }

  /**
   * Freezes the replica and cuts its link, so nothing the master writes from now on reaches it, not even a buffer.
   * Which of the two is master is read first: on a loaded machine the Sentinels may have failed over already.
   */
  async pauseReplica(): Promise<void> {
    const reply = (await ask(this.sentinelPorts[0]!, [
      "SENTINEL",
      "GET-MASTER-ADDR-BY-NAME",
      this.masterName,
    ])) as string[];
    if (Number(reply[1]) === this.replicaPort)
      [this.masterPort, this.replicaPort] = [this.replicaPort, this.masterPort];
    await waitFor(
      "the replica in sync",
      async () => (await replicationInfo(this.replicaPort)).get("master_link_status") === "up",
    );
    this.processes.signal(this.replicaPort, "SIGSTOP");
    await ask(this.masterPort, ["CLIENT", "KILL", "TYPE", "replica"]);
  }

  /** Kills the master outright and lets the replica run again (before the Sentinels would count it down too). */
  async killMasterAndResumeReplica(): Promise<void> {
    await this.processes.kill(this.masterPort);
    this.processes.signal(this.replicaPort, "SIGCONT");
  }

  /** Waits until the Sentinels have promoted the replica. */
  async failedOver(): Promise<void> {
    await waitFor(
      "the Sentinels to promote the replica",
      async () => {
        const reply = (await ask(this.sentinelPorts[0]!, [
          "SENTINEL",
          "GET-MASTER-ADDR-BY-NAME",
          this.masterName,
        ])) as string[];
        return (
          Number(reply[1]) === this.replicaPort && (await replicationInfo(this.replicaPort)).get("role") === "master"
        );
      },
      30_000,
    );
  }

  /** The killed master comes back as the new master's replica (as an operator would bring it back). */
  async restartOldMaster(): Promise<void> {
    const old = this.masterPort;
    await this.processes.restart(old, [`replicaof ${HOST} ${this.replicaPort}`]);
    await waitFor(
      "the old master to be the new master's replica",
      async () => (await replicationInfo(old)).get("master_link_status") === "up",
      30_000,
    );
    [this.masterPort, this.replicaPort] = [this.replicaPort, old];
  }

  stop(): Promise<void> {
    return this.processes.stop();
  }
}

/** A field of a RESP2 flat array or a RESP3 map reply. */
export function fieldOf(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) return reply[reply.indexOf(name) + 1];
  if (reply instanceof Map) return reply.get(name);
  return (reply as Record<string, unknown>)[name];
}

/** Three masters (every slot covered) and one replica of the master that serves `slotKey`'s slot. */
export class ClusterSetup {
  private constructor(
    private readonly processes: Processes,
    readonly masterPorts: number[],
    public slotMasterPort: number,
    public replicaPort: number,
  ) {}

  static async start(slotKey: string): Promise<ClusterSetup> {
    const processes = new Processes();
    try {
      const ports = (await Promise.all([1, 2, 3, 4].map(() => sparePort()))) as [number, number, number, number];
      const node = (port: number): string[] => [
        "cluster-enabled yes",
        `cluster-config-file nodes-${port}.conf`,
        "cluster-node-timeout 2000",
        "cluster-replica-validity-factor 0",
      ];
      for (const port of ports) await processes.start(port, node(port));
      const masters = ports.slice(0, 3);
      await run("redis-cli", ["--cluster", "create", ...masters.map((port) => `${HOST}:${port}`), "--cluster-yes"]);
      await waitFor("the cluster to be ok", async () =>
        String(await ask(masters[0]!, ["CLUSTER", "INFO"])).includes("cluster_state:ok"),
      );
      const slot = Number(await ask(masters[0]!, ["CLUSTER", "KEYSLOT", slotKey]));
      const owner = await waitFor("the slot's master", async () => {
        for (const port of masters) {
          const id = String(await ask(port, ["CLUSTER", "MYID"]));
          const slots = (await ask(port, ["CLUSTER", "SLOTS"])) as [number, number, [string, number, string]][];
          if (slots.some(([from, to, master]) => slot >= from && slot <= to && master[2] === id)) return { port, id };
        }
        return null;
      });
      const replica = ports[3];
      await run("redis-cli", [
        "--cluster",
        "add-node",
        `${HOST}:${replica}`,
        `${HOST}:${owner.port}`,
        "--cluster-slave",
        "--cluster-master-id",
        owner.id,
      ]);
      await waitFor(
        "the replica in sync",
        async () => (await replicationInfo(replica)).get("master_link_status") === "up",
      );
      await waitFor("every node to see the replica", async () => {
        for (const port of masters) {
          if (
            !String(await ask(port, ["CLUSTER", "NODES"]))
              .split("\n")
              .some((line) => line.includes(`:${replica}@`) && line.includes("slave"))
          )
            return false;
        }
        return true;
      });
      return new ClusterSetup(processes, masters, owner.port, replica);
    } catch (error) {
      await processes.stop();
      throw error;
    }
  }

  url(prefix: string, extra = ""): string {
    return `redis+cluster://${this.masterPorts.map((port) => `${HOST}:${port}`).join(",")}?prefix=${prefix}${extra}`;
  }

  /**
   * Freezes the replica and cuts its link, so nothing the master writes from now on reaches it, not even a buffer.
   * Which of the two is master is read first: on a loaded machine the cluster may have failed over already.
   */
  async pauseReplica(): Promise<void> {
    if ((await replicationInfo(this.replicaPort)).get("role") === "master") {
      [this.slotMasterPort, this.replicaPort] = [this.replicaPort, this.slotMasterPort];
    }
    await waitFor(
      "the replica in sync",
      async () => (await replicationInfo(this.replicaPort)).get("master_link_status") === "up",
    );
    this.processes.signal(this.replicaPort, "SIGSTOP");
    await ask(this.slotMasterPort, ["CLIENT", "KILL", "TYPE", "replica"]);
  }

  /** Kills the master of the store's slot outright and lets its replica run again. */
  async killMasterAndResumeReplica(): Promise<void> {
    await this.processes.kill(this.slotMasterPort);
    this.processes.signal(this.replicaPort, "SIGCONT");
  }

  /** Waits until the replica has taken the slot over and the cluster is whole again. */
  async failedOver(): Promise<void> {
    await waitFor(
      "the replica to take over the slot",
      async () => (await replicationInfo(this.replicaPort)).get("role") === "master",
      30_000,
    );
    const alive = this.masterPorts.find((port) => port !== this.slotMasterPort)!;
    await waitFor(
      "the cluster to be ok again",
      async () => String(await ask(alive, ["CLUSTER", "INFO"])).includes("cluster_state:ok"),
      30_000,
    );
  }

  /** The killed master comes back (its nodes.conf kept) and rejoins as the new master's replica. */
  async restartOldMaster(): Promise<void> {
    const old = this.slotMasterPort;
    await this.processes.restart(old);
    await waitFor(
      "the old master to be the new master's replica",
      async () => (await replicationInfo(old)).get("master_link_status") === "up",
      30_000,
    );
    [this.slotMasterPort, this.replicaPort] = [this.replicaPort, old];
  }

  stop(): Promise<void> {
    return this.processes.stop();
  }
}
