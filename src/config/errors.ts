import type { z } from "zod";

/** Configuration that cannot be used; every problem names its key path (CLI exit code 2). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: string[],
    readonly source: string | null = null,
  ) {
    super(`invalid configuration${source ? ` in ${source}` : ""}:\n  ${problems.join("\n  ")}`);
  }
}

/** `http.port: expected number, received string`, one line per problem, unknown keys named one by one. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown key`);
      continue;
    }
    lines.push(`${formatPath(issue.path)}: ${issue.message.replace(/^Invalid input: /, "")}`);
  }
  return lines;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`))
    .join("");
}
