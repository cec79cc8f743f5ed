import { Counter, type Registry } from "prom-client";

/**
 * Metrics updated on every message are kept in plain numbers here and handed to prom-client when scraped: prom-client
 * validates and hashes the labels on each inc()/observe() (about a microsecond), which the per-message path should
 * not pay. Exposition stays prom-client's (the registry formats these like its own).
 */

/** One label set's histogram: observe() is a bucket search and three additions. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

interface ExposedValue {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

/** A histogram with labels whose series are made once (series()) and observed cheaply; registered in `registry`. */
export class LabelledHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly all = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry asks any registered metric for get(): { name, help, type, values } (what getMetricsAsJSON returns).
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** The series of `labels` (same labels, same series). */
  series(labels: Readonly<Record<string, string>>): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.all.get(key);
    if (!series) {
      series = new HistogramSeries(labels, this.bounds);
      this.all.set(key, series);
    }
    return series;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.all.values()) {
      // The series' labels go in sharedLabels, as prom-client's own histogram does (so `le` is printed first).
      const sharedLabels = series.labels;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { le: "+Inf" }, sharedLabels, value: series.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A counter with labels counted in a Map, copied into a prom-client Counter when scraped. */
export class LabelledCounter<L extends string> {
  private readonly totals = new Map<string, { labels: Record<L, string>; value: number }>();

  constructor(name: string, help: string, labelNames: readonly L[], registry: Registry) {
    const totals = this.totals;
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of totals.values()) this.inc(labels, value);
      },
    });
  }

  /** Adds one to the series of `labels`; `key` tells the series apart (their values joined, say), so no label is hashed. */
  inc(key: string, labels: Record<L, string>): void {
    const entry = this.totals.get(key);
    if (entry) entry.value += 1;
    else this.totals.set(key, { labels, value: 1 });
  }
}
