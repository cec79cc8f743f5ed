// createGateway with its default webchat channel; the composition sits above the gateway and the channels (see src/gatehouse.ts).
export { createGateway, DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STORE_URL } from "../gatehouse.js";
export { createBareGateway } from "./create-gateway.js";
export type { Gateway, GatewayHttpOptions, GatewayOptions } from "./create-gateway.js";
export { admit, authorizeOwnerAction, sessionKey, UNAVAILABLE_MESSAGE } from "../core/admission.js";
export type {
  AdmissionOptions,
  AdmissionResult,
  AdmissionSender,
  OwnerActionDecision,
  OwnerActor,
} from "../core/admission.js";
export { STORE_DEADLINE_MS, StoreDeadlineError, withDeadline } from "../core/deadline.js";
export { GatewayError, type ErrorBody, type GatewayErrorCode } from "../core/errors.js";
export { createLogger, jsonLogger, silentLogger, type LoggerOptions, type LogFormat, type LogLevel } from "./logger.js";
export { runAgent, type AgentTurn } from "../core/agent-runner.js";
export { DEFAULT_WEBSOCKET_OPTIONS, type WebSocketOptions } from "./ws-hub.js";
export { APPROVAL_POLL_INTERVAL_MS } from "../core/approval-poll.js";
export { WS_METHODS } from "./ws-methods.js";
export type * from "../core/context.js";
export { AGENT_ROLE } from "../core/identity-lists.js";
export type { ApprovalAsk, ApprovalResult } from "../core/approvals/in-process.js";
export type { ApprovalOptions, ApprovalAnswer } from "../core/approvals/service.js";
export type { ApprovalRule, RiskLevel } from "../core/approvals/policy.js";
