// What the replicas of a spread run say about the shares: which ones a replica leads (from its
// share-change events), its quota among the live replicas, and a wait until it leads that many.
import { shareQuotas } from '../../../lib/core/spread/share-balance.js';
import { now, sleep } from '../timings.js';
import type { ChaosRun } from './chaos-run.js';
import { live } from './replica-lifecycle.js';
import type { Replica } from './replica-process.js';

/** The shares `replica` leads by its last share-change event of each (none once it exited). */
export function ledShares(replica: Replica): number[] {
  if (replica.dead) return [];
  const leads = new Map<number, boolean>();
  for (const e of replica.events)
    if (e.type === 'share-change' && e.share !== undefined) leads.set(e.share, e.isLeader === true);
  return [...leads].flatMap(([share, isLeader]) => (isLeader ? [share] : []));
}

/** `replica`'s quota of the run's shares among the live replicas (the library's `shareQuotas`). */
export function shareQuota(run: ChaosRun, replica: Replica): number {
  const identities = live(run).map((r) => r.identity);
  return shareQuotas(identities, run.spread!.shares).get(replica.identity) ?? 0;
}

/**
 * Waits until `replica` leads at least its quota of shares; the problem if it does not within
 * `timeoutMs` (undefined: it does).
 */
export async function waitForQuota(
  run: ChaosRun,
  replica: Replica,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const led = ledShares(replica).length;
    const quota = shareQuota(run, replica);
    if (led >= quota) return undefined;
    if (replica.dead) return `${replica.id} exited before it led its quota of ${quota} share(s)`;
    if (now() > deadline)
      return `${replica.id} led ${led} share(s), below its quota of ${quota}, ${timeoutMs} ms after it started`;
    await sleep(50);
  }
}
