import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BackendName, BenchBackend, Opened } from "./lib/backends.js";
import { benchScript } from "./lib/child.js";
import { round } from "./lib/measure.js";
import { log, printTable } from "./lib/report.js";
import { budgetFor, benchSize, STORE_OPS, type SizeFigures, type StoreOp } from "./lib/store-ops.js";

/**
 * A/B of the store benchmark between two checkouts of gatehouse, e.g. a commit and its parent:
 *
 *   git worktree add --detach /tmp/ab-old <commit>^ && ln -s "$PWD/node_modules" /tmp/ab-old/node_modules
 *   npx tsx bench/ab-stores.ts --a /tmp/ab-old --b . --backend sqlite --size 100000 --rounds 6
 *
 * Each side runs in its own process, one after the other, alternating (A B, B A, A B, …) so that a change in the
 * machine's load falls on both. Both run this checkout's measurement (bench/lib/store-ops.ts, the same calls as
 * `npm run bench:stores`) on the other checkout's stores and seeders (its bench/lib/backends.ts). The table gives,
 * per operation, the median over rounds of B ÷ A (rate, and rate per CPU-second where measured); 1.00 is no change.
 * Progress and the table go to stderr, the rounds as JSON to stdout.
 */
interface AbArgs {
  a: string;
  b: string;
  backend: BackendName;
  size: number;
  rounds: number;
  quick: boolean;
}

function parseAbArgs(argv: readonly string[]): AbArgs & { child?: string } {
  const args: AbArgs & { child?: string } = {
    a: "",
    b: ".",
    backend: "sqlite",
    size: 100_000,
    rounds: 6,
    quick: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new TypeError(`${flag} needs a value`);
      return next;
    };
    if (flag === "--a") args.a = value();
    else if (flag === "--b") args.b = value();
    else if (flag === "--child") args.child = value();
    else if (flag === "--backend") args.backend = value() as BackendName;
    else if (flag === "--size") args.size = Number(value());
    else if (flag === "--rounds") args.rounds = Number(value());
    else if (flag === "--quick") args.quick = true;
    else
      throw new TypeError(
        `unknown argument "${flag}"; usage: ab-stores --a DIR [--b DIR] [--backend sqlite] [--size 100000] [--rounds 6] [--quick]`,
      );
  }
  if (!args.child && args.a === "") throw new TypeError("--a DIR (the checkout to compare against) is required");
  if (!Number.isInteger(args.size) || args.size < 1) throw new TypeError("--size must be a positive integer");
  if (!Number.isInteger(args.rounds) || args.rounds < 1) throw new TypeError("--rounds must be a positive integer");
  return args;
}

/** One side: opens the backend of checkout `dir` with its own seeder, seeds `size` senders, prints the figures. */
async function runChild(dir: string, args: AbArgs): Promise<void> {
  const backends = (await import(pathToFileURL(resolve(dir, "bench/lib/backends.ts")).href)) as {
    openBackend(name: BackendName): Promise<Opened>;
  };
  const opened = await backends.openBackend(args.backend);
  if ("skipped" in opened) throw new Error(`${args.backend} in ${dir}: ${opened.skipped}`);
  const backend: BenchBackend = opened;
  try {
    await backend.seed(0, args.size);
    const figures = await benchSize(backend, args.size, budgetFor(args.quick));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await backend.dispose();
  }
}

function runSide(dir: string, args: AbArgs): Promise<SizeFigures> {
  const argv = [
    "--child",
    dir,
    "--backend",
    args.backend,
    "--size",
    String(args.size),
    ...(args.quick ? ["--quick"] : []),
  ];
  const child = spawn(process.execPath, ["--import", "tsx", benchScript("ab-stores.ts"), ...argv], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  return new Promise((done, fail) => {
    child.once("error", fail);
    child.once("exit", (code) => {
      if (code !== 0) return fail(new Error(`ab-stores: the side in ${dir} exited with code ${String(code)}`));
      try {
        done(JSON.parse(out.trim().split("\n").at(-1) ?? "") as SizeFigures);
      } catch {
        fail(new Error(`ab-stores: the side in ${dir} printed no figures`));
      }
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function runParent(args: AbArgs): Promise<void> {
  const rounds: { a: SizeFigures; b: SizeFigures }[] = [];
  for (let r = 0; r < args.rounds; r++) {
    const first = r % 2 === 0 ? "a" : "b";
    const side = async (which: "a" | "b"): Promise<SizeFigures> => runSide(which === "a" ? args.a : args.b, args);
    const firstFigures = await side(first);
    const secondFigures = await side(first === "a" ? "b" : "a");
    const round_ = first === "a" ? { a: firstFigures, b: secondFigures } : { a: secondFigures, b: firstFigures };
    rounds.push(round_);
    log(
      `ab-stores: round ${r + 1}/${args.rounds}: ${STORE_OPS.map((op) => `${op} ${(round_.b.ops[op].opsPerSec / round_.a.ops[op].opsPerSec).toFixed(2)}`).join(", ")}`,
    );
  }
  const ratios = (op: StoreOp, field: "opsPerSec" | "opsPerCpuSec"): number[] =>
    rounds.flatMap(({ a, b }) => {
      const x = a.ops[op][field];
      const y = b.ops[op][field];
      return x && y ? [y / x] : [];
    });
  const rows = STORE_OPS.map((op) => {
    const rate = ratios(op, "opsPerSec");
    const cpu = ratios(op, "opsPerCpuSec");
    return [
      op,
      round(median(rounds.map((r) => r.a.ops[op].opsPerSec))),
      round(median(rounds.map((r) => r.b.ops[op].opsPerSec))),
      round(median(rate), 2),
      `${round(Math.min(...rate), 2)}-${round(Math.max(...rate), 2)}`,
      cpu.length ? round(median(cpu), 2) : "-",
    ];
  });
  printTable(
    `${args.backend} @ ${args.size.toLocaleString("en-US")} paired, ${args.rounds} rounds; A = ${args.a}, B = ${args.b}`,
    ["op", "A ops/s", "B ops/s", "B/A rate", "B/A range", "B/A per CPU-s"],
    rows,
  );
  process.stdout.write(`${JSON.stringify({ settings: args, rounds })}\n`);
}

const args = parseAbArgs(process.argv.slice(2));
if (args.child) await runChild(args.child, args);
else await runParent(args);
process.exit(0);
