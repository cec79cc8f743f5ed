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

export interface ProfileRow {
  name: string;
  selfMs: number;
  percent: number;
}

/** Self time per function (name + file:line) and per file or package, largest first. */
export function summarise(
  profile: CpuProfile,
  top: number,
): { total: number; rows: ProfileRow[]; byFile: ProfileRow[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  const perFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index] ?? 0) / 1000;
    total += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url
      ? `${relative(process.cwd(), frame.url.replace(/^file:\/\//, ""))}:${frame.lineNumber + 1}`
      : "";
    const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + delta);
    const file = fileGroup(frame.url, frame.functionName);
    perFile.set(file, (perFile.get(file) ?? 0) + delta);
  });
  const ranked = (map: Map<string, number>): ProfileRow[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, selfMs: Math.round(ms), percent: Math.round((ms / total) * 1000) / 10 }));
  return { total: Math.round(total), rows: ranked(self), byFile: ranked(perFile) };
}

/** Our files by path, dependencies by package, Node internals as one group, natives (writev, GC, idle) by name. */
function fileGroup(url: string, functionName: string): string {
  if (url === "") return functionName || "(native)";
  const path = relative(process.cwd(), url.replace(/^file:\/\//, ""));
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (dependency) return `dependency ${dependency[1]}`;
  if (path.startsWith("node:")) return "node internals";
  return path;
}

if (process.argv[1]?.endsWith("profile-summary.ts")) {
  const file = process.argv[2];
  if (!file) throw new TypeError("usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]");
  const { total, rows, byFile } = summarise(
    JSON.parse(readFileSync(file, "utf8")) as CpuProfile,
    Number(process.argv[3] ?? 25),
  );
  process.stdout.write(`total ${total} ms\n\nby function (self time)\n`);
  for (const row of rows)
    process.stdout.write(`${String(row.percent).padStart(5)}%  ${String(row.selfMs).padStart(6)} ms  ${row.name}\n`);
  process.stdout.write(`\nby file or package (self time)\n`);
  for (const row of byFile)
    process.stdout.write(`${String(row.percent).padStart(5)}%  ${String(row.selfMs).padStart(6)} ms  ${row.name}\n`);
}
