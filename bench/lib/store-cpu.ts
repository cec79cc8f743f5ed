import pg from "pg";
import { createClient } from "redis";
import { processCpuMs } from "./child.js";

/**
 * CPU time (ms) the store's server has spent for the gateways under test, read before and after a run: for PostgreSQL
 * the backends whose application_name is the gateways' (`gatehouse:<schema>`, one schema per bench run; read from
 * /proc, so only for a server on this machine), for Redis the whole server's `INFO cpu` (other users of the same Redis
 * count too). null when it cannot be read.
 */
export interface StoreCpu {
  /** A reading now: pass it to `since` after the run. */
  mark(): Promise<StoreCpuMark | null>;
  /** CPU ms spent since `mark`, or null. */
  since(mark: StoreCpuMark | null): Promise<number | null>;
  close(): Promise<void>;
}

type StoreCpuMark = Map<number, number> | number;

export async function storeCpu(store: string, url: string): Promise<StoreCpu> {
  if (store === "postgres") return postgresCpu(url);
  if (store === "redis") return redisCpu(url);
  return { mark: async () => null, since: async () => null, close: async () => undefined };
}

async function postgresCpu(url: string): Promise<StoreCpu> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? "gatehouse";
  parsed.search = "";
  const client = new pg.Client({ connectionString: parsed.toString(), application_name: "gatehouse-bench" });
  client.on("error", () => undefined);
  await client.connect();
  const backends = async (): Promise<Map<number, number> | null> => {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
      [`gatehouse:${schema}`.slice(0, 63)],
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      const ms = processCpuMs(pid);
      if (ms === null) return null;
      cpu.set(pid, ms);
    }
    return cpu;
  };
  return {
    mark: backends,
    since: async (mark) => {
      const now = await backends();
      if (!(mark instanceof Map) || !now) return null;
      // A backend that connected during the run spent all its CPU in it.
      let total = 0;
      for (const [pid, ms] of now) total += ms - (mark.get(pid) ?? 0);
      return total;
    },
    close: () => client.end(),
  };
}

async function redisCpu(url: string): Promise<StoreCpu> {
  const parsed = new URL(url);
  parsed.search = "";
  const client = createClient({ url: parsed.toString() });
  client.on("error", () => undefined);
  await client.connect();
  const used = async (): Promise<number | null> => {
    const info = await client.info("cpu");
    const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1]);
    const seconds = field("used_cpu_sys") + field("used_cpu_user");
    return Number.isFinite(seconds) ? seconds * 1000 : null;
  };
  return {
    mark: used,
    since: async (mark) => {
      const now = await used();
      return typeof mark === "number" && now !== null ? now - mark : null;
    },
    close: async () => void (await client.close()),
  };
}
