/**
 * A child process for the cross-process checks: opens the store at a URL, waits for a shared start time, runs its
 * approvals all at once and prints the results as JSON. Input: one JSON argument (see WorkerJob).
 */
import { openStores } from "../stores/open.js";
import type { PairingRules } from "../stores/types.js";

export interface WorkerJob {
  url: string;
  secret: string;
  rules: PairingRules;
  startAt: number;
  approvals: { channelType: string; code: string; userId?: string }[];
  /** The store's per-call deadline in this process, milliseconds (default: the store's own). */
  timeoutMs?: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as WorkerJob;
  const stores = await openStores(job.url, {
    ...job.rules,
    secret: Buffer.from(job.secret, "base64"),
    ...(job.timeoutMs !== undefined ? { timeoutMs: job.timeoutMs } : {}),
  });
  try {
    const wait = job.startAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const results = await Promise.all(
      job.approvals.map((a) => stores.pairing.approve(a.channelType, a.code, a.userId ?? "")),
    );
    process.stdout.write(JSON.stringify(results));
  } finally {
    await stores.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
