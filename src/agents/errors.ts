/**
 * Why an agent could not answer, in terms the user may be told: the model is rate limited, it took too long, it is
 * unreachable or misconfigured, or it answered with an error. `detail` is for the log (status, error type and code, never
 * the request, the conversation or a key).
 */
export type AgentFailure = "rate-limited" | "timeout" | "unavailable" | "failed";

export class AgentError extends Error {
  override readonly name = "AgentError";
  constructor(
    readonly failure: AgentFailure,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${failure}: ${detail}`, options);
  }
}

/** Thrown when an optional package an agent needs is not installed. */
export class MissingAgentPackageError extends Error {
  override readonly name = "MissingAgentPackageError";
  constructor(
    readonly packageName: string,
    agentType: string,
    options?: { cause?: unknown },
  ) {
    super(`the ${agentType} agent needs the "${packageName}" package: npm install ${packageName}`, options);
  }
}

/** One short, honest line per kind of failure, for the person who asked. */
export const AGENT_FAILURE_MESSAGES: Readonly<Record<AgentFailure, string>> = {
  "rate-limited": "The model is over its rate limit right now. Please try again in a minute.",
  timeout: "The model took too long to answer. Please try again.",
  unavailable: "The model cannot be reached right now. Please try again later.",
  failed: "Sorry, something went wrong while answering. Please try again.",
};

/** What to tell the user when an agent threw: its AgentError's kind, or a plain failure for anything else. */
export function agentFailureOf(error: unknown): AgentFailure {
  return error instanceof AgentError ? error.failure : "failed";
}
