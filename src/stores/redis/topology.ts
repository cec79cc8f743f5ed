import { StoreUnavailableError } from "../../pairing/errors.js";
import {
  COMMAND_OPTIONS,
  connectRedis,
  loadRedisModule,
  reconnectDelay,
  withDeadline,
  type RedisClientLike,
} from "./connection.js";
import type { RedisTarget } from "./target.js";

/**
 * Clients for Redis beyond one server, shaped like one node-redis client (RedisClientLike), so the stores do not know
 * which they talk to. A cluster store lives in one hash slot (its prefix is hash-tagged), so every command is routed by
 * one key of that slot; a Sentinel client talks to whichever server the Sentinels name master, following failovers.
 */

type Listener = (error: Error) => void;

/** What node-redis's cluster and sentinel objects have in common with a client, minus how commands are sent. */
interface Topology {
  duplicate(): Topology;
  connect(): Promise<unknown>;
  on(event: "error", listener: Listener): unknown;
  off(event: "error", listener: Listener): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  close(): Promise<unknown>;
  destroy(): unknown;
}

interface ClusterLike extends Topology {
  sendCommand(firstKey: string, isReadonly: boolean, args: ReadonlyArray<string>): Promise<unknown>;
  getNodeClientForKey(
    key: string,
    isReadonly: boolean,
  ): Promise<{ sendCommand(args: ReadonlyArray<string>): Promise<unknown> }>;
  duplicate(): ClusterLike;
}

/**
 * Every command of a cluster store goes to the master of the store's one slot on that node's one connection: keyless
 * commands too (WAIT must follow the writes it waits for on their connection; node-redis would send a keyless command
 * to any node). A MOVED reply (the slot moved: a failover) is sent again once through the cluster client, which
 * learns the new layout from it.
 */
async function sendToSlotMaster(
  cluster: ClusterLike,
  routingKey: string,
  args: ReadonlyArray<string>,
): Promise<unknown> {
  const node = await cluster.getNodeClientForKey(routingKey, false);
  try {
    return await node.sendCommand(args);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith("MOVED")) throw error;
    await cluster.sendCommand(routingKey, true, ["EXISTS", routingKey]);
    return (await cluster.getNodeClientForKey(routingKey, false)).sendCommand(args);
  }
}

interface SentinelLike extends Topology {
  sendCommand(isReadonly: boolean, args: ReadonlyArray<string>): Promise<unknown>;
  duplicate(): SentinelLike;
}

/** One of them as a RedisClientLike; `send` says how a command goes out. */
class TopologyClient<T extends Topology> implements RedisClientLike {
  constructor(
    private readonly inner: T,
    private readonly send: (inner: T, args: ReadonlyArray<string>) => Promise<unknown>,
    private readonly copy: (inner: T) => T,
  ) {}

  sendCommand(args: ReadonlyArray<string>): Promise<unknown> {
    return this.send(this.inner, args);
  }

  duplicate(): RedisClientLike {
    return new TopologyClient(this.copy(this.inner), this.send, this.copy);
  }

  async connect(): Promise<unknown> {
    return this.inner.connect();
  }

  on(event: "error", listener: Listener): unknown {
    return this.inner.on(event, listener);
  }

  off(event: "error", listener: Listener): unknown {
    return this.inner.off(event, listener);
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  get isReady(): boolean {
    return this.inner.isReady;
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  destroy(): void {
    void Promise.resolve(this.inner.destroy()).catch(() => {});
  }
}

/** Connects within `timeoutMs` or fails with StoreUnavailableError, tearing the half-made client down. */
async function connected(client: RedisClientLike, timeoutMs: number): Promise<RedisClientLike> {
  const ignore = (): void => {};
  client.on("error", ignore);
  const connecting = client.connect();
  connecting.catch(ignore);
  try {
    await withDeadline(connecting, timeoutMs);
  } catch (error) {
    client.destroy();
    throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError("redis", { cause: error });
  } finally {
    client.off("error", ignore);
  }
  return client;
}

/**
 * A connected client for the URL's target: one server, a cluster (commands routed by `routingKey`, a key of the
 * store's slot) or the master behind Sentinels. Like the one-server client: no offline queue (a command issued while
 * disconnected fails at once), reconnecting in the background, connecting within `timeoutMs`.
 */
export async function connectTarget(
  target: RedisTarget,
  routingKey: string,
  timeoutMs: number,
): Promise<RedisClientLike> {
  if (target.mode === "single") return connectRedis(target.url, timeoutMs);
  const redis = await loadRedisModule();
  const socket = {
    connectTimeout: timeoutMs,
    reconnectStrategy: reconnectDelay,
    ...(target.tls ? { tls: true as const } : {}),
  };
  const auth = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
  };
  if (target.mode === "cluster") {
    const cluster = redis.createCluster({
      rootNodes: target.nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
      defaults: { ...auth, disableOfflineQueue: true, socket },
      commandOptions: COMMAND_OPTIONS,
    }) as unknown as ClusterLike;
    const client = new TopologyClient(
      cluster,
      (inner, args) => sendToSlotMaster(inner, routingKey, args),
      (inner) => inner.duplicate(),
    );
    return connected(client, timeoutMs);
  }
  const sentinel = redis.createSentinel({
    name: target.masterName,
    sentinelRootNodes: target.sentinels.map((node) => ({ host: node.host, port: node.port })),
    nodeClientOptions: { ...auth, database: target.database, disableOfflineQueue: true, socket },
    sentinelClientOptions: {
      disableOfflineQueue: true,
      socket: { connectTimeout: timeoutMs, reconnectStrategy: reconnectDelay },
    },
    commandOptions: COMMAND_OPTIONS,
    // one connection to the master: a pairing decision and the WAIT after it go out on the same one
    masterPoolSize: 1,
    scanInterval: 1000,
  }) as unknown as SentinelLike;
  const client = new TopologyClient(
    sentinel,
    (inner, args) => inner.sendCommand(false, args),
    (inner) => inner.duplicate(),
  );
  return connected(client, timeoutMs);
}
