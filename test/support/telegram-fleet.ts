/**
 * The set-up of the tests that run one Telegram bot on several `gatehouse start` processes (fleet, Telegram failover):
 * the local Bot API, a CLI workspace, and a gatehouse.yaml that gives the bot a lease of `leaseSeconds`. Everything it
 * makes goes on `cleanups` (the test file's afterEach list); instances still running then are killed with SIGKILL.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadGatewaySecret } from "../../src/pairing/secret.js";
import { openStores } from "../../src/stores/open.js";
import type { Stores } from "../../src/stores/types.js";
import { LocalBotApi } from "../channels-telegram-api.js";
import { cliWorkspace, startGatehouse, type CliWorkspace } from "../cli-helpers.js";

export type Started = Awaited<ReturnType<typeof startGatehouse>>;
export type Cleanups = Array<() => Promise<unknown> | unknown>;

export interface TelegramFleet {
  api: LocalBotApi;
  ws: CliWorkspace;
  /** `--data-dir`, `--store` and `--config`: what every CLI command and instance of this fleet gets. */
  args: string[];
  /** The fleet's store, opened in this process with the gateway secret the instances use. */
  open(): Promise<Stores>;
  /** Starts one more `gatehouse start` (on a free port). */
  start(): Promise<Started>;
}

export async function telegramFleet(
  options: {
    token: string;
    leaseSeconds: number;
    /** The shared store; the workspace's SQLite file when not given. */
    store?: string;
    /** Lines under `policy:` (none when empty). */
    policy?: string[];
    /** More lines under `channels.telegram` (after token and apiRoot). */
    telegram?: string[];
  },
  cleanups: Cleanups,
): Promise<TelegramFleet> {
  const api = new LocalBotApi(options.token);
  const apiRoot = await api.listen();
  const ws = cliWorkspace();
  cleanups.push(
    () => ws.cleanup(),
    () => api.close(),
  );
  const indent = (lines: string[] | undefined, by: string) => (lines ?? []).map((line) => `${by}${line}`);
  const config = join(ws.dataDir, "gatehouse.yaml");
  writeFileSync(
    config,
    [
      "instances:",
      `  leaseSeconds: ${options.leaseSeconds}`,
      ...(options.policy?.length ? ["policy:", ...indent(options.policy, "  ")] : []),
      "channels:",
      "  telegram:",
      `    token: "${options.token}"`,
      `    apiRoot: ${apiRoot}`,
      ...indent(options.telegram, "    "),
      "",
    ].join("\n"),
  );
  const store = options.store ?? ws.store;
  const args = ["--data-dir", ws.dataDir, "--store", store, "--config", config];
  return {
    api,
    ws,
    args,
    async open() {
      const stores = await openStores(store, { secret: loadGatewaySecret(ws.dataDir, {}), dataDir: ws.dataDir });
      cleanups.push(() => stores.close());
      return stores;
    },
    async start() {
      const started = await startGatehouse([...args, "--port", "0"]);
      cleanups.push(() => {
        if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGKILL");
      });
      return started;
    },
  };
}
