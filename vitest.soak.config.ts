import { defineConfig } from "vitest/config";

/**
 * The long runs, outside `npm test`: the gateway soak (GATEHOUSE_SOAK_MS, default 10 minutes) and the hostile-input
 * properties at >= 10,000 cases each (GATEHOUSE_FC_RUNS). Run with `npm run test:soak`.
 */
export default defineConfig({
  test: {
    include: ["test/soak/**/*.soak.ts", "test/security-hostile-input.test.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    execArgv: ["--expose-gc"],
    env: {
      GATEHOUSE_FC_RUNS: process.env.GATEHOUSE_FC_RUNS ?? "10000",
      GATEHOUSE_SOAK_MS: process.env.GATEHOUSE_SOAK_MS ?? String(10 * 60_000),
    },
  },
});
