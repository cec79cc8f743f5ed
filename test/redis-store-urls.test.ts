/** Redis store URLs beyond one server: which forms are accepted, and clear errors (naming the part) for the rest. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { openStores } from "../src/stores/index.js";
import { findStoreBackend, storeUrlProblem } from "../src/stores/registry.js";

const secret = randomBytes(32);

describe("redis store URLs", () => {
  it("the registry takes the cluster and sentinel forms (so gatehouse.yaml and --store accept them)", () => {
    for (const url of [
      "redis+cluster://10.0.0.1:7000,10.0.0.2:7000",
      "rediss+sentinel://s1:26379,s2:26379/0?name=mymaster",
    ]) {
      assert.equal(storeUrlProblem(url), null, url);
      assert.equal(findStoreBackend(url)?.name, "redis", url);
    }
  });

  it("refuses what it cannot use before connecting anywhere, saying which part is wrong", async () => {
    const refusals: [string, RegExp][] = [
      ["redis+cluster://127.0.0.1:1/3", /no database number/],
      ["redis+sentinel://127.0.0.1:1/0", /\?name=<master name>/],
      ["redis+sentinel://127.0.0.1:1/x?name=m", /database must be a whole number/],
      ["redis+cluster://127.0.0.1:1?colour=blue", /unknown parameter \?colour=/],
      ["redis+cluster://127.0.0.1:1?waitReplicas=some", /waitReplicas/],
      ["redis+cluster://127.0.0.1:1,not a host?x=1", /is not a host:port/],
      ["redis+sentinel://127.0.0.1:1/0?name=m&auditRetention=soon", /auditRetention/],
      ["redis://127.0.0.1:1/0?prefix=has space", /prefix/],
    ];
    for (const [url, message] of refusals) {
      // a TypeError, never StoreUnavailableError: nothing was connected to (port 1 answers nobody)
      await assert.rejects(
        openStores(url, { secret }),
        (error: Error) => error instanceof TypeError && message.test(error.message),
        url,
      );
    }
  });
});
