import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = fileURLToPath(new URL("./src/", import.meta.url));

export default defineConfig({
  // Examples import the package by name, as a user would; in this repository that is the source.
  resolve: {
    alias: [
      { find: /^gatehouse$/, replacement: `${src}index.ts` },
      { find: /^gatehouse\/(.*)$/, replacement: `${src}$1/index.ts` },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Fails the run if a test wrote ./.gatehouse or dump.rdb into the repository (see the file).
    globalSetup: ["test/support/repo-data-dir-guard.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time even on two cores (Vitest's default there is one): most tests wait on sockets, timers
    // and child processes, so the suite took 14.5 minutes one file at a time on a slow 2-core machine and under 10 with two.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: process.env.GATEHOUSE_JSON_REPORT
      ? ["default", ["json", { outputFile: process.env.GATEHOUSE_JSON_REPORT }]]
      : ["default"],
  },
});
