/**
 * The per-message metrics keep their counts in plain numbers and hand them to prom-client when scraped; their text must
 * be exactly what prom-client's own Histogram and Counter print for the same observations.
 */
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LabelledCounter, LabelledHistogram } from "../src/gateway/metrics/fast-metrics.js";

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
/** Values on, between, below and above the bounds. */
const VALUES = [0, 0.001, 0.0010001, 0.005, 0.01, 0.1, 0.099, 1, 3, 10, 10.5, 1e6];

describe("LabelledHistogram and LabelledCounter", () => {
  it("print what prom-client's Histogram prints for the same observations (le is inclusive; +Inf, sum and count)", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({
      name: "h_seconds",
      help: "a histogram",
      labelNames: ["backend", "method"],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const fast = new LabelledHistogram("h_seconds", "a histogram", BUCKETS, ours);
    for (const [backend, method] of [
      ["sqlite", "pairing.isPairedMany"],
      ["redis", "sessions.bind"],
    ] as const) {
      const series = fast.series({ backend, method });
      for (const value of VALUES) {
        reference.observe({ backend, method }, value);
        series.observe(value);
      }
    }
    expect(fast.series({ backend: "sqlite", method: "pairing.isPairedMany" }).count).toBe(VALUES.length);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("a counter counts per label set, like prom-client's Counter", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({
      name: "c_total",
      help: "a counter",
      labelNames: ["channel", "decision"],
      registers: [theirs],
    });
    const fast = new LabelledCounter("c_total", "a counter", ["channel", "decision"], ours);
    const events = [
      ["telegram", "pending"],
      ["telegram", "pending"],
      ["webchat", "admitted"],
      ["telegram", "admitted"],
    ] as const;
    for (const [channel, decision] of events) {
      reference.inc({ channel, decision });
      fast.inc(`${channel}/${decision}`, { channel, decision });
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // A scrape does not reset or double what was counted.
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
