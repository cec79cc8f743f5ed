import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Agent } from "../core/context.js";
import { echoAgent } from "./echo.js";
import { httpAgent } from "./http.js";
import { openaiAgent } from "./openai.js";
import { agentSchema, type AgentConfig, type AgentSpec } from "./schema.js";

export interface AgentBuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Where a relative systemPromptFile is found (the config file's folder); default the working directory. */
  baseDir?: string;
}

/** Builds the agent an `agent:` section describes; bad fields are one TypeError naming each of them. */
export function agentFromSpec(spec: AgentSpec, options: AgentBuildOptions = {}): Agent {
  const parsed = agentSchema.safeParse(spec);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `agent.${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new TypeError(issues.join("; "));
  }
  return agentFromConfig(parsed.data, options);
}

/** Builds the agent of an already validated section (the config loader's output). */
export function agentFromConfig(config: AgentConfig, options: AgentBuildOptions = {}): Agent {
  switch (config.type) {
    case "echo":
      return echoAgent;
    case "http":
      return httpAgent(config.url, { timeoutMs: config.timeoutMs, history: config.history });
    case "openai":
      return openaiAgent({
        baseUrl: config.baseUrl,
        model: config.model,
        apiKey: config.apiKeyEnv === undefined ? undefined : apiKeyFrom(config.apiKeyEnv, options.env ?? process.env),
        systemPrompt: config.systemPrompt ?? promptFile(config.systemPromptFile, options.baseDir),
        temperature: config.temperature,
        maxTokens: config.maxTokens,
        idleTimeoutMs: config.timeoutMs,
      });
  }
}

const PLACEHOLDERS = new Set(["undefined", "null", "changeme", "change-me", "your-api-key", "sk-...", "xxx", "todo"]);

/** The key from its variable; a missing, empty or placeholder value is refused without echoing it. */
function apiKeyFrom(variable: string, env: NodeJS.ProcessEnv): string {
  const value = env[variable]?.trim();
  if (!value) throw new TypeError(`agent.apiKeyEnv: ${variable} is not set in the environment`);
  if (PLACEHOLDERS.has(value.toLowerCase()))
    throw new TypeError(`agent.apiKeyEnv: ${variable} holds a placeholder; set the real key`);
  return value;
}

function promptFile(path: string | undefined, baseDir: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const file = resolve(baseDir ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new TypeError(
      `agent.systemPromptFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (text.trim() === "") throw new TypeError(`agent.systemPromptFile: ${file} is empty`);
  return text;
}
