import type { Figure } from "./measure.js";

/** A target from the issues, checked against one measured value. */
export interface TargetCheck {
  name: string;
  /** What the target says, e.g. ">= 300000 ops/s". */
  target: string;
  value: number | null;
  met: boolean | null;
  note?: string;
}

export function atLeast(
  name: string,
  value: number | null | undefined,
  minimum: number,
  unit: string,
  note?: string,
): TargetCheck {
  return bound(name, value, ">=", minimum, unit, note);
}

export function atMost(
  name: string,
  value: number | null | undefined,
  maximum: number,
  unit: string,
  note?: string,
): TargetCheck {
  return bound(name, value, "<=", maximum, unit, note);
}

/** One limit checked; a value not measured (or not finite) leaves the target unknown, not failed. */
function bound(
  name: string,
  value: number | null | undefined,
  sign: ">=" | "<=",
  limit: number,
  unit: string,
  note: string | undefined,
): TargetCheck {
  const known = typeof value === "number" && Number.isFinite(value);
  return {
    name,
    target: `${sign} ${limit} ${unit}`,
    value: known ? value : null,
    met: known ? (sign === ">=" ? value >= limit : value <= limit) : null,
    ...(note ? { note } : {}),
  };
}

/** Progress and tables go to stderr, so stdout carries only the JSON document. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [
    header,
    ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell))),
  ];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  log(`\n${title}`);
  for (const [index, row] of cells.entries()) {
    log(
      row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join("  "),
    );
    if (index === 0) log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

export const FIGURE_HEADER = ["ops/s", "p50 us", "p99 us", "cpu", "ops/cpu-s"];

export function figureCells(figure: Figure): (string | number)[] {
  return [figure.opsPerSec, figure.p50Us, figure.p99Us, figure.cpuShare ?? "-", figure.opsPerCpuSec ?? "-"];
}

export function printTargets(targets: TargetCheck[]): void {
  if (targets.length === 0) return;
  printTable(
    "targets",
    ["target", "wanted", "measured", "met"],
    targets.map((t) => [
      t.name,
      t.target,
      t.value === null ? "-" : t.value,
      t.met === null ? "n/a" : t.met ? "yes" : "NO",
    ]),
  );
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toFixed(value < 10 ? 2 : 1);
}

type Cells = (string | number)[];

/** Table rows for per-backend, per-size results: a skipped backend gets one row saying why. */
export function backendRows<S>(
  backends: Partial<Record<string, { sizes: S[] } | { skipped: string }>>,
  rowsOf: (name: string, size: S) => Cells[],
): Cells[] {
  const rows: Cells[] = [];
  for (const [name, backend] of Object.entries(backends)) {
    if (!backend) continue;
    if ("skipped" in backend) rows.push([name, "-", `skipped: ${backend.skipped}`, ...FIGURE_HEADER.map(() => "")]);
    else for (const size of backend.sizes) rows.push(...rowsOf(name, size));
  }
  return rows;
}
