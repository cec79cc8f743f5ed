import type { EventEmitter } from "node:events";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { AgentTurnOutcome, GatewayMetrics } from "../../core/metrics.js";
import type { AuditEvent, AuditEventType } from "../../stores/types.js";
import { LabelledCounter, LabelledHistogram, type HistogramSeries } from "./fast-metrics.js";

/** The audit events counted as pairing events (the `event` label). */
const PAIRING_EVENTS: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  "requested",
  "approved",
  "denied",
  "expired",
  "revoked",
]);

/** Store calls take from well under a millisecond (memory, SQLite) to the 2 s deadline (a slow network store). */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Agents answer in tens of milliseconds (echo) to minutes (a model writing a long reply). */
const AGENT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What the gauges read when /metrics is scraped. */
export interface MetricsSources {
  /** Open WebSocket connections of this gateway. */
  sockets(): number;
  /** Each started channel's health (1 ok, 0 degraded). */
  channels(): Record<string, "ok" | "degraded">;
}

/** For one store method (once), what records each of its calls: how long it took, and whether it threw or rejected. */
export type StoreCallObserver = (method: string) => (seconds: number, failed: boolean) => void;

/**
 * One gateway's metrics in a Registry of its own (never prom-client's global one), so two gateways in one process each
 * count their own. Implements the core's GatewayMetrics (admission, agent turns); the gateway feeds it store calls,
 * pairing events and the gauges' sources.
 */
export class PrometheusMetrics implements GatewayMetrics {
  readonly registry = new Registry();
  private readonly admissions = new LabelledCounter(
    "gatehouse_admission_decisions_total",
    "Admission decisions for chat and webchat senders, by channel type, decision and the rule that decided",
    ["channel", "decision", "reason"] as const,
    this.registry,
  );
  private readonly pairingEvents = new Counter({
    name: "gatehouse_pairing_events_total",
    help: "Pairing requests, approvals, denials, expiries and revocations seen in the store's audit stream (every instance sees all of them)",
    labelNames: ["channel", "event"] as const,
    registers: [this.registry],
  });
  private readonly storeCalls = new LabelledHistogram(
    "gatehouse_store_call_duration_seconds",
    "Latency of the gateway's store calls, by backend and method",
    STORE_BUCKETS,
    this.registry,
  );
  private readonly storeErrors = new Counter({
    name: "gatehouse_store_call_errors_total",
    help: "Store calls that threw or rejected (store down, deadline passed, or a refusal such as a cooldown), by backend and method",
    labelNames: ["backend", "method"] as const,
    registers: [this.registry],
  });
  private readonly agentTurns = new LabelledHistogram(
    "gatehouse_agent_turn_duration_seconds",
    "How long the agent took to answer one message, by channel type and outcome (ok, stopped, error)",
    AGENT_BUCKETS,
    this.registry,
  );
  private readonly agentErrors = new Counter({
    name: "gatehouse_agent_errors_total",
    help: "Agent turns that failed (the agent threw, its service refused or could not be reached), by channel type",
    labelNames: ["channel"] as const,
    registers: [this.registry],
  });
  private readonly agentSeries = new Map<string, HistogramSeries>();

  constructor(sources: MetricsSources) {
    new Gauge({
      name: "gatehouse_websocket_connections",
      help: "Open WebSocket connections (owner, token and webchat sockets, including those not yet signed in)",
      registers: [this.registry],
      collect() {
        this.set(sources.sockets());
      },
    });
    new Gauge({
      name: "gatehouse_channel_up",
      help: "1 when a started channel is healthy, 0 when it is degraded (cannot log in, stopped receiving)",
      labelNames: ["channel"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [channel, status] of Object.entries(sources.channels()))
          this.set({ channel }, status === "ok" ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  admission(channelType: string, decision: string, reason: string): void {
    this.admissions.inc(`${channelType}\u0000${decision}\u0000${reason}`, { channel: channelType, decision, reason });
  }

  agentTurn(channelType: string, seconds: number, outcome: AgentTurnOutcome): void {
    const key = `${channelType}\u0000${outcome}`;
    let series = this.agentSeries.get(key);
    if (!series) {
      series = this.agentTurns.series({ channel: channelType, outcome });
      this.agentSeries.set(key, series);
    }
    series.observe(seconds);
    if (outcome === "error") this.agentErrors.inc({ channel: channelType });
  }

  /** An observer for one store's calls: each method's series is looked up once, then observed cheaply. */
  storeObserver(backend: string): StoreCallObserver {
    return (method) => {
      const series = this.storeCalls.series({ backend, method });
      const errors = this.storeErrors.labels(backend, method);
      return (seconds, failed) => {
        series.observe(seconds);
        if (failed) errors.inc();
      };
    };
  }

  /** Counts the pairing events the gateway re-emits from its store (`audit`); returns the function that stops counting. */
  countPairingEvents(events: EventEmitter): () => void {
    const listener = (event: AuditEvent): void => {
      if (PAIRING_EVENTS.has(event.type)) this.pairingEvents.inc({ channel: event.channelType, event: event.type });
    };
    events.on("audit", listener);
    return () => events.off("audit", listener);
  }
}
