/** The approval store conformance suite on every built-in backend: two handles on one store, as two instances would be. */
import { randomBytes } from "node:crypto";
import { afterAll, describe, it } from "vitest";
import { openStores } from "../src/stores/open.js";
import type { Stores } from "../src/stores/types.js";
import { describeApprovalStore } from "../src/testing/index.js";
import { allBackends } from "./support/backends.js";

const backends = await allBackends();
const secret = randomBytes(32);
const opened: Stores[] = [];

async function open(url: string, now: () => number): Promise<Stores> {
  const stores = await openStores(url, { now, secret });
  opened.push(stores);
  return stores;
}

for (const backend of backends) {
  describeApprovalStore(
    backend.name,
    async (now) => {
      const url = backend.freshUrl();
      const first = await open(url, now);
      // memory: is one process's store, so both handles are the same object
      const second = backend.shared ? await open(url, now) : first;
      return [first.approvals!, second.approvals!];
    },
    { describe: backend.available ? describe : describe.skip, it },
  );
}

afterAll(async () => {
  for (const stores of opened.splice(0)) await stores.close();
  for (const backend of backends) await backend.cleanup();
});
