import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { WorkerJob } from "./worker.js";

/** The worker next to this file: compiled JavaScript when installed, TypeScript (run through tsx) in this repository. */
function workerCommand(): string[] {
  const js = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(js)) return [js];
  return ["--import", "tsx", fileURLToPath(new URL("./worker.ts", import.meta.url))];
}

/** Runs one worker process and resolves with its approve results. */
export function runWorker(job: WorkerJob): Promise<boolean[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...workerCommand(), JSON.stringify(job)],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`worker process failed: ${stderr || error.message}`));
          return;
        }
        resolve(JSON.parse(stdout) as boolean[]);
      },
    );
  });
}
