import type { SuiteRunner } from "../../src/testing/index.js";

export interface CollectedCase {
  title: string;
  run: () => Promise<void>;
}

/** The suites take any runner with describe and it: this one collects the cases so a test can run and count them itself. */
export function collectCases(register: (runner: SuiteRunner) => void): CollectedCase[] {
  const cases: CollectedCase[] = [];
  register({ describe: (_name, fn) => fn(), it: (title, run) => void cases.push({ title, run }) });
  return cases;
}

/** Runs every case; the rule of each one that failed (`[rule] …` titles), once each, sorted. */
export async function failingRules(cases: CollectedCase[]): Promise<string[]> {
  const failed = new Set<string>();
  for (const c of cases) {
    await c.run().catch(() => failed.add(/^\[([a-z-]+)\]/.exec(c.title)?.[1] ?? c.title));
  }
  return [...failed].sort();
}
