/**
 * The stored device policy (webchat.deviceProof) is read for every legacy webchat connect and request. Reads are
 * shared by the checks that come while one is under way (so a busy gateway does not send one PostgreSQL query per
 * message), yet every check is answered by a read sent after it asked, a store that fails or hangs fails the checks
 * closed, and the next check reads again. On a real PostgreSQL schema, a second opener playing the other instance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedDevicePolicy } from "../src/gateway/device-handshake.js";
import { openStores } from "../src/stores/open.js";
import { DEVICE_PROOF_SETTING, type SettingsStore } from "../src/stores/settings.js";
import type { Stores } from "../src/stores/types.js";
import { dropSchemas, POSTGRES_URL, postgresAvailable, uniqueSchema, urlWithSchema } from "./postgres-helpers.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const SECRET = Buffer.alloc(32, 7);
const schemaPrefix = uniqueSchema("policy");

/** The store's settings, counting the reads that reach it. */
function counted(settings: SettingsStore): SettingsStore & { reads: number } {
  const wrapper = {
    reads: 0,
    get: (name: string) => {
      wrapper.reads++;
      return settings.get(name);
    },
    set: (name: string, value: string) => settings.set(name, value),
    setIfAbsent: (name: string, value: string) => settings.setIfAbsent(name, value),
  };
  return wrapper;
}

describe("stored device policy on PostgreSQL: shared reads, always fresh, fail closed", () => {
  let available = false;
  let proxy: TcpProxy;
  const opened: Stores[] = [];
  const open = async (url: string): Promise<Stores> => {
    const stores = await openStores(url, { secret: SECRET, timeoutMs: 1_000 });
    opened.push(stores);
    return stores;
  };

  beforeAll(async () => {
    available = await postgresAvailable();
    const target = new URL(POSTGRES_URL);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  });

  afterAll(async () => {
    for (const stores of opened) await stores.close().catch(() => undefined);
    await proxy.down();
    if (available) await dropSchemas(schemaPrefix);
  });

  it("many concurrent checks share a few reads; a change committed before a check asked is seen by it", async ({
    skip,
  }) => {
    if (!available) return skip();
    const url = urlWithSchema(`${schemaPrefix}a`);
    const here = await open(url);
    const other = await open(url);
    const settings = counted(here.settings!);
    const policy = storedDevicePolicy(undefined, settings);

    const burst = await Promise.all(Array.from({ length: 50 }, () => policy.mode()));
    expect(burst.every((mode) => mode === "optional")).toBe(true);
    // The first check reads alone; the 49 that came while it was under way share the next read.
    expect(settings.reads).toBe(2);

    // A read is under way when the other instance requires keys; a check made after that commit must see it.
    const before = policy.mode();
    await other.settings!.set(DEVICE_PROOF_SETTING, "required");
    const after = await Promise.all([policy.mode(), policy.mode()]);
    expect(after).toEqual(["required", "required"]);
    expect(["optional", "required"]).toContain(await before);

    await other.settings!.set(DEVICE_PROOF_SETTING, "optional");
    expect(await policy.mode()).toBe("optional");
  });

  it("a store that hangs fails the checks waiting on it within the deadline, and the next check reads again", async ({
    skip,
  }) => {
    if (!available) return skip();
    const target = new URL(POSTGRES_URL);
    target.port = String(proxy.port);
    const url = urlWithSchema(`${schemaPrefix}b`, target.toString());
    const stores = await open(url);
    const settings = counted(stores.settings!);
    const policy = storedDevicePolicy(undefined, settings);
    expect(await policy.mode()).toBe("optional");

    proxy.hang();
    const started = Date.now();
    const waiting = await Promise.allSettled([policy.mode(), policy.mode(), policy.mode()]);
    // Fail closed: none is answered "optional"; each within the store's deadline (1 s) plus the gateway's (2 s).
    expect(waiting.every((result) => result.status === "rejected")).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The first check read alone; the two queued behind it shared one read, sent once the hung one was given up.
    expect(settings.reads).toBe(3);

    await proxy.up();
    await (await open(urlWithSchema(`${schemaPrefix}b`))).settings!.set(DEVICE_PROOF_SETTING, "required");
    expect(await policy.mode()).toBe("required");
  });
});
