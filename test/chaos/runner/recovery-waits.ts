// Waiting for the run to settle: a stable leader every live replica agrees on, every share's jobs
// running again (with `spread`), or one event in the run's log.
import type { ReplicaEvent } from '../checker.js';
import { sharesWithoutWork } from '../spread.js';
import { now, sleep } from '../timings.js';
import type { ChaosRun } from './chaos-run.js';
import { leaseHolder } from './lease-access.js';
import { live } from './replica-lifecycle.js';
import type { Replica } from './replica-process.js';

/** A leader that the Lease names, that reports leading, that every live replica agrees on. */
export async function waitForStableLeader(run: ChaosRun, timeoutMs = 60_000): Promise<Replica> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const holder = await leaseHolder(run);
    const leader = live(run).find((r) => r.identity === holder && !r.paused && r.view?.isLeader);
    if (
      leader &&
      live(run)
        .filter((r) => !r.paused)
        .every((r) => r.view?.leader === leader.identity) &&
      leader.events.some((e) => e.type === 'work-step' && e.t > now() - 1_000)
    ) {
      return leader;
    }
    if (now() > deadline) {
      throw new Error(
        `no stable leader within ${timeoutMs} ms (lease holder ${holder}; views ${live(run)
          .map((r) => `${r.id}:${JSON.stringify(r.view)}`)
          .join(' ')})`,
      );
    }
    await sleep(50);
  }
}

/**
 * With `spread`: until every share's jobs run again on a live replica (a step in the last
 * second). Returns who ran each share's jobs last.
 */
export async function waitForSharesRunning(run: ChaosRun, timeoutMs: number): Promise<string[]> {
  const spread = run.spread;
  if (!spread) return [];
  const deadline = now() + timeoutMs;
  for (;;) {
    const { idle, holders } = sharesWithoutWork(run.replicas, run.jobs, spread.shares, now());
    if (!idle.length) return holders;
    if (now() > deadline) {
      throw new Error(
        `share(s) ${idle.join(', ')} ran none of their jobs within ${timeoutMs} ms (last share-change per replica: ${live(
          run,
        )
          .map(
            (r) =>
              `${r.id}:${JSON.stringify(r.events.filter((e) => e.type === 'share-change' && idle.includes(e.share!)).slice(-idle.length))}`,
          )
          .join(' ')})`,
      );
    }
    await sleep(50);
  }
}

/** The first event (from `since` on, in arrival order) that matches; polled. */
export async function waitForEvent(
  run: ChaosRun,
  match: (event: ReplicaEvent) => boolean,
  what: string,
  since: number,
  timeoutMs = 60_000,
): Promise<ReplicaEvent> {
  const all = run.events;
  const deadline = now() + timeoutMs;
  for (let next = since; ; await sleep(20)) {
    for (; next < all.length; next++) if (match(all[next])) return all[next];
    if (now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
  }
}
