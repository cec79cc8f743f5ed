import { z } from "zod";
import { envName, nonEmpty } from "../config/fields.js";

const openaiAgentSchema = z
  .strictObject({
    type: z.literal("openai"),
    /** The server's API root: https://api.openai.com/v1, http://127.0.0.1:11434/v1 (Ollama), … */
    baseUrl: z.url({ protocol: /^https?$/ }),
    model: nonEmpty,
    /** The variable holding the API key; local servers usually need none. */
    apiKeyEnv: envName.optional(),
    systemPrompt: nonEmpty.optional(),
    /** A file holding the system prompt, relative to the config file. */
    systemPromptFile: nonEmpty.optional(),
    temperature: z.number().min(0, "must be 0-2").max(2, "must be 0-2").optional(),
    maxTokens: z.number().int("must be an integer").positive("must be positive").optional(),
    /** Longest wait for the first token and between tokens, milliseconds. */
    timeoutMs: z.number().int().positive().optional(),
  })
  .refine((agent) => agent.systemPrompt === undefined || agent.systemPromptFile === undefined, {
    message: "set systemPrompt or systemPromptFile, not both",
  });

/** The `agent:` section of gatehouse.yaml, also accepted by createGateway({ agent }). */
export const agentSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("echo") }),
  z.strictObject({
    type: z.literal("http"),
    url: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().positive().optional(),
    /** Send the session's earlier turns with each message (the gateway then keeps the conversation). */
    history: z.boolean().optional(),
  }),
  openaiAgentSchema,
]);

export type AgentSpec = z.input<typeof agentSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
