import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { openStores } from "../stores/open.js";
import type { Stores } from "../stores/types.js";
import { type LevelOption, ruleCase } from "./rules.js";
import { SUITE_RULES, type SuiteRunner } from "./runner.js";
import { runWorker } from "./spawn-worker.js";

/** Start time far enough ahead that every child has opened its store before the race begins. */
const START_DELAY_MS = 2500;

async function withSharedStore(
  sharedUrl: () => string | Promise<string>,
  body: (stores: Stores, url: string, secret: Buffer) => Promise<void>,
): Promise<void> {
  const url = await sharedUrl();
  const secret = randomBytes(32);
  const stores = await openStores(url, { ...SUITE_RULES, maxPendingPerChannelType: 100, secret });
  try {
    await body(stores, url, secret);
  } finally {
    await stores.close();
  }
}

/** Checks that need real processes: single use and no lost writes across separate connections. */
export function describeCrossProcess(
  sharedUrl: () => string | Promise<string>,
  runner: SuiteRunner & LevelOption,
): void {
  const { describe } = runner;
  const it = (name: string, body: () => Promise<void>, timeout?: number) =>
    ruleCase(runner, "single-use", name, body, timeout);
  describe("across processes", () => {
    it(
      "two processes approving different codes at the same time: both pairings survive",
      () =>
        withSharedStore(sharedUrl, async (stores, url, secret) => {
          const codes = await Promise.all(
            Array.from({ length: 20 }, (_, i) => stores.pairing.generateCode("telegram", `sender-${i}`)),
          );
          const startAt = Date.now() + START_DELAY_MS;
          const job = (part: string[]) => ({
            url,
            secret: secret.toString("base64"),
            rules: SUITE_RULES,
            startAt,
            approvals: part.map((code) => ({ channelType: "telegram", code })),
          });
          const [a, b] = await Promise.all([runWorker(job(codes.slice(0, 10))), runWorker(job(codes.slice(10)))]);
          assert.deepEqual(
            [...a, ...b],
            codes.map(() => true),
          );
          const paired = await stores.pairing.listPaired();
          assert.equal(paired.length, 20);
          for (let i = 0; i < 20; i++) assert.equal(await stores.pairing.isPaired(`sender-${i}`, "telegram"), true);
        }),
      60_000,
    );

    it(
      "many processes racing for one code: exactly one approval wins",
      () =>
        withSharedStore(sharedUrl, async (stores, url, secret) => {
          const code = await stores.pairing.generateCode("telegram", "alice");
          const startAt = Date.now() + START_DELAY_MS;
          const job = {
            url,
            secret: secret.toString("base64"),
            rules: SUITE_RULES,
            startAt,
            approvals: Array.from({ length: 25 }, () => ({ channelType: "telegram", code })),
          };
          const results = (await Promise.all([runWorker(job), runWorker(job), runWorker(job), runWorker(job)])).flat();
          assert.equal(results.length, 100);
          assert.equal(results.filter(Boolean).length, 1);
          assert.equal(await stores.pairing.isPaired("alice", "telegram"), true);
        }),
      60_000,
    );
  });
}
