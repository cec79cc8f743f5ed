#!/usr/bin/env node
// `npm start`'s prestart: runs `npm run build` only when a source changed since the last build (or dist/ is missing),
// so a warm start does not spend its time recompiling. `--check` only reports (exit 0 up to date, 1 a build is needed).
// Usage: node scripts/build-if-changed.mjs [--check] [repository root, default: the current folder]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
const check = args.includes("--check");
const root = args.find((arg) => arg !== "--check") ?? process.cwd();
const STAMP = join(root, "dist", ".build-stamp");
/** Everything the build reads. */
const INPUTS = [
  "src",
  "web/src",
  "web/build.ts",
  "web/tsconfig.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
];
/** What the build must have produced for `gatehouse start` and the console to run. */
const OUTPUTS = ["dist/cli/main.js", "web/dist/index.html"];

/** The most recently modified file among the inputs: [path, mtimeMs]. */
function newestInput() {
  let newest = ["", 0];
  const visit = (path) => {
    let info;
    try {
      info = statSync(path);
    } catch {
      return;
    }
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (info.mtimeMs > newest[1]) newest = [path, info.mtimeMs];
  };
  for (const input of INPUTS) visit(join(root, input));
  return newest;
}

function whyBuild() {
  const missing = OUTPUTS.find((output) => !existsSync(join(root, output)));
  if (missing) return `${missing} is missing`;
  if (!existsSync(STAMP)) return "no record of an earlier build";
  const [path, mtime] = newestInput();
  if (mtime > statSync(STAMP).mtimeMs) return `${relative(root, path)} changed since the last build`;
  return null;
}

const reason = whyBuild();
if (reason === null) {
  console.error("build is up to date: no source changed since the last build");
  process.exit(0);
}
if (check) {
  console.error(`build needed: ${reason}`);
  process.exit(1);
}
console.error(`building: ${reason}`);
// The stamp gets the time the build started, so a file saved while it ran still counts as changed next time.
const started = new Date();
const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(STAMP, `${started.toISOString()}\n`);
utimesSync(STAMP, started, started);
