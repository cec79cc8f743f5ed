/**
 * Real Redis topologies of the test's own: `redis-server` processes on spare loopback ports in a temp dir, a Sentinel
 * set-up (master, replica, three Sentinels) or a Cluster (three masters, one replica for the store's slot). Every
 * process is killed and the dir removed by `stop()`, which tests call in `finally`/`afterAll` (and which a process
 * exit also triggers, so nothing outlives a failed run).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sparePort } from "../redis-support.js";
import { ask, fieldOf, HOST, replicationInfo, run, waitFor } from "./redis-nodes.js";

export { ask, fieldOf, replicationInfo, requireRedisBinaries, waitFor } from "./redis-nodes.js";

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

/**
 * The master and the replica a failover test works on (FailoverTopology in redis-failover.ts), and the steps it takes
 * with them; which port is which changes as the topology fails over.
 */
abstract class ReplicatedPair {
  protected constructor(
    protected readonly processes: Processes,
    public masterPort: number,
    public replicaPort: number,
  ) {}

  /** Whether the replica has been promoted already (on a loaded machine the topology may have failed over early). */
  protected abstract replicaIsMaster(): Promise<boolean>;
  /** What the killed master's config gets on its restart, so it comes back as the new master's replica. */
  protected abstract rejoinLines(): string[];
  /** Waits until the replica has been promoted and the topology serves again. */
  abstract failedOver(): Promise<void>;

  /** Freezes the replica and cuts its link, so nothing the master writes from now on reaches it, not even a buffer. */
  async pauseReplica(): Promise<void> {
    if (await this.replicaIsMaster()) [this.masterPort, this.replicaPort] = [this.replicaPort, this.masterPort];
    await waitFor(
      "the replica in sync",
      async () => (await replicationInfo(this.replicaPort)).get("master_link_status") === "up",
    );
    this.processes.signal(this.replicaPort, "SIGSTOP");
    await ask(this.masterPort, ["CLIENT", "KILL", "TYPE", "replica"]);
  }

  /** Kills the master outright and lets the replica run again (before the topology would count it down too). */
  async killMasterAndResumeReplica(): Promise<void> {
    await this.processes.kill(this.masterPort);
    this.processes.signal(this.replicaPort, "SIGCONT");
  }

  /** The killed master comes back as the new master's replica (as an operator would bring it back). */
  async restartOldMaster(): Promise<void> {
    const old = this.masterPort;
    await this.processes.restart(old, this.rejoinLines());
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

/** A master, one replica and three Sentinels watching it as `mymaster` (down after 2 s, quorum 2). */
export class SentinelSetup extends ReplicatedPair {
  readonly masterName = "mymaster";
  private constructor(
    processes: Processes,
    masterPort: number,
    replicaPort: number,
    readonly sentinelPorts: number[],
  ) {
    super(processes, masterPort, replicaPort);
  }

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

  protected async replicaIsMaster(): Promise<boolean> {
    const reply = (await ask(this.sentinelPorts[0]!, [
      "SENTINEL",
      "GET-MASTER-ADDR-BY-NAME",
      this.masterName,
    ])) as string[];
    return Number(reply[1]) === this.replicaPort;
  }

  protected rejoinLines(): string[] {
    return [`replicaof ${HOST} ${this.replicaPort}`];
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
}

/** Three masters (every slot covered) and one replica of the master that serves `slotKey`'s slot. */
export class ClusterSetup extends ReplicatedPair {
  /** `masterPort` is the master of the store's slot, one of `masterPorts`. */
  private constructor(
    processes: Processes,
    readonly masterPorts: number[],
    slotMasterPort: number,
    replicaPort: number,
  ) {
    super(processes, slotMasterPort, replicaPort);
  }

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

  protected async replicaIsMaster(): Promise<boolean> {
    return (await replicationInfo(this.replicaPort)).get("role") === "master";
  }

  /** It keeps its nodes.conf and rejoins as the new master's replica by itself. */
  protected rejoinLines(): string[] {
    return [];
  }

  /** Waits until the replica has taken the slot over and the cluster is whole again. */
  async failedOver(): Promise<void> {
    await waitFor(
      "the replica to take over the slot",
      async () => (await replicationInfo(this.replicaPort)).get("role") === "master",
      30_000,
    );
    const alive = this.masterPorts.find((port) => port !== this.masterPort)!;
    await waitFor(
      "the cluster to be ok again",
      async () => String(await ask(alive, ["CLUSTER", "INFO"])).includes("cluster_state:ok"),
      30_000,
    );
  }
}
