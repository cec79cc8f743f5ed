export { echoAgent } from "./echo.js";
export { httpAgent, type HttpAgentOptions } from "./http.js";
export { openaiAgent, type OpenAIAgentOptions } from "./openai.js";
export { AgentError, AGENT_FAILURE_MESSAGES, type AgentFailure } from "./errors.js";
export { agentSchema, type AgentSpec, type AgentConfig } from "./schema.js";
