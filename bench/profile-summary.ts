import { readFileSync } from "node:fs";
import { relative } from "node:path";

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, with file:line, so a
 * profile can be read without DevTools. Usage: tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(profile: CpuProfile, top: number): { total: number; rows: { name: string; selfMs: number; percent: number }[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index] ?? 0) / 1000;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? `${relative(process.cwd(), frame.url.replace(/^file:\/\//, ""))}:${frame.lineNumber + 1}` : "";
    const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + delta);
  });
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, selfMs: Math.round(ms), percent: Math.round((ms / total) * 1000) / 10 }));
  return { total: Math.round(total), rows };
}

if (process.argv[1]?.endsWith("profile-summary.ts")) {
  const file = process.argv[2];
  if (!file) throw new TypeError("usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]");
  const { total, rows } = summarise(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(process.argv[3] ?? 25));
  process.stdout.write(`total ${total} ms\n`);
  for (const row of rows) process.stdout.write(`${String(row.percent).padStart(5)}%  ${String(row.selfMs).padStart(6)} ms  ${row.name}\n`);
}
