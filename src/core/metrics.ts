/**
 * What the shared gateway code counts: admission decisions and agent turns. The gateway implements it (Prometheus,
 * src/gateway/metrics/); anything else may, e.g. a test. Labels are fixed words and channel types, never ids, codes or text.
 */
export interface GatewayMetrics {
  /** One admission decision: `decision` is admitted/pending/denied/unavailable, `reason` says which rule decided. */
  admission(channelType: string, decision: string, reason: string): void;
  /** One agent turn ended after `seconds`: answered, stopped (by `/stop` or the client leaving) or failed. */
  agentTurn(channelType: string, seconds: number, outcome: AgentTurnOutcome): void;
}

export type AgentTurnOutcome = "ok" | "stopped" | "error";
