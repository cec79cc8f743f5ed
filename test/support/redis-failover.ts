/**
 * One scenario for every replicated Redis topology (Sentinel, Cluster): pairing decisions made while all is well,
 * while the replica lags and the master is killed, and through the failover. What must hold afterwards, read on a
 * fresh client: every approval and revoke the store acknowledged is still there, and no sender who was never approved
 * was ever reported paired, before, during or after.
 */
import assert from "node:assert/strict";
import type { Stores } from "../../src/stores/types.js";
import { waitFor } from "./redis-topology.js";

export interface FailoverTopology {
  open(): Promise<Stores>;
  /** Freezes the replica and cuts its link: the master takes writes the replica will never have. */
  pauseReplica(): Promise<void>;
  /** Kills the master (SIGKILL) and lets the replica run again, so it is the one promoted. */
  killMasterAndResumeReplica(): Promise<void>;
  /** Resolves once the replica is the new master. */
  failedOver(): Promise<void>;
  /** Starts the killed master again; it comes back as the new master's replica. */
  restartOldMaster(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const senders = (group: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${group}-${i}`);

export async function approvalsAcrossFailover(topology: FailoverTopology): Promise<void> {
  const store = await topology.open();
  let watching = true;
  try {
    const healthy = senders("healthy", 6);
    const lagging = senders("lagging", 6);
    const during = senders("during", 4);
    const later = senders("later", 3);
    const never = senders("never", 4);
    const codes = new Map<string, string>();
    for (const id of [...healthy, ...lagging, ...during, ...later, ...never])
      codes.set(id, await store.pairing.generateCode("telegram", id));
    const code = (id: string): string => codes.get(id)!;
    const acknowledged = new Set<string>();
    const revoked = new Set<string>();
    const approve = (id: string): Promise<void> =>
      store.pairing.approve("telegram", code(id)).then((ok) => {
        if (ok) acknowledged.add(id);
      });
    const revoke = (id: string): Promise<void> =>
      store.pairing.revoke(id, "telegram").then((ok) => {
        if (!ok) return;
        revoked.add(id);
        acknowledged.delete(id);
      });

    // nobody who was never approved is ever reported paired, at any moment of what follows
    const wronglyAdmitted: string[] = [];
    const watch = (async () => {
      while (watching) {
        const answers = await store.pairing
          .isPairedMany(never.map((id) => ({ channelId: id, channelType: "telegram" })))
          .catch(() => []);
        answers.forEach((paired, i) => paired && wronglyAdmitted.push(never[i]!));
        await sleep(50);
      }
    })();

    // 1. all is well: every decision is acknowledged
    for (const id of healthy) await approve(id);
    await revoke(healthy[0]!);
    assert.equal(acknowledged.size, healthy.length - 1, "approvals are acknowledged while the replica keeps up");

    // 2. the replica lags, decisions are in flight, the master dies
    await topology.pauseReplica();
    // a decision that was not acknowledged may or may not have happened: the revoked sender's approval is in doubt
    acknowledged.delete(healthy[1]!);
    const inFlight = [...lagging.map((id) => approve(id).catch(() => {})), revoke(healthy[1]!).catch(() => {})];
    await sleep(300); // by now the master has run the scripts; only their replication is missing
    await topology.killMasterAndResumeReplica();
    await Promise.all(inFlight);

    // 3. through the failover: decisions fail closed (an error, never a false "done") until a replica holds them again
    const failedClosed: string[] = [];
    const attempts = during.map(async (id) => {
      await approve(id).catch(() => failedClosed.push(id));
    });
    await topology.failedOver();
    await Promise.all(attempts);

    // 4. with the old master back as a replica, decisions are acknowledged again
    await topology.restartOldMaster();
    for (const id of later) {
      await waitFor(`the approval of ${id} to be acknowledged`, async () => {
        await approve(id).catch(() => {});
        return acknowledged.has(id) || (await store.pairing.isPaired(id, "telegram").catch(() => false));
      });
    }
    watching = false;
    await watch;

    const check = await topology.open();
    try {
      const paired = async (id: string): Promise<boolean> => check.pairing.isPaired(id, "telegram");
      for (const id of acknowledged)
        assert.equal(await paired(id), true, `the acknowledged approval of ${id} survived the failover`);
      for (const id of revoked)
        assert.equal(await paired(id), false, `the acknowledged revoke of ${id} survived the failover`);
      for (const id of never) assert.equal(await paired(id), false, `${id} was never approved`);
      assert.deepEqual(wronglyAdmitted, [], "no one who was never approved was reported paired during the failover");
      for (const id of later) assert.equal(await paired(id), true, `${id}, approved after the failover, is paired`);
    } finally {
      await check.close();
    }
  } finally {
    watching = false;
    await store.close();
  }
}
