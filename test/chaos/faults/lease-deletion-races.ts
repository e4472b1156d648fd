// The Lease deleted while its holder is cut off or held back: the races where a replica that never
// saw the holder's term, or a stale watch, could make a second leader.
import { leadersOverlap } from '../runner/leadership-notes.js';
import { afterNextRenew, deleteLease } from '../runner/lease-access.js';
import { waitForEvent } from '../runner/recovery-waits.js';
import { retire, startReplica } from '../runner/replica-lifecycle.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** Until a leader cut off at `cut` has certainly stopped leading, and its term has run out. */
const untilTermOver = (cut: number) =>
  sleep(Math.max(0, cut + CHAOS_TIMINGS.renewDeadline + CHAOS_TIMINGS.leaseDuration - now()));

/**
 * A fresh process, cut off from birth so that it never saw the Lease, is ready; then the leader is
 * cut off, the Lease deleted, and the fresh process's connection restored.
 */
async function leaseDeletedLeaderCut({ run, leader, start }: FaultContext): Promise<FaultOutcome> {
  const fresh = await startReplica(run, { cut: true });
  await fresh.waitFor((e) => e.type === 'ready', 'start-up');
  leader.proxy.cutOff();
  await deleteLease(run);
  fresh.proxy.restore();
  await sleep(CHAOS_TIMINGS.renewDeadline + CHAOS_TIMINGS.leaseDuration);
  leader.proxy.restore();
  const note = `cut-off ${leader.id} and fresh ${fresh.id} both led ${leadersOverlap(run.events, start, now())} ms`;
  // Back to the usual count: the old leader (a follower by now) leaves.
  await retire(leader);
  return { note };
}

/**
 * A fresh process, cut off from birth so that it never saw the Lease, is ready. The leader is cut
 * off right after a renew and the Lease deleted; the others saw it deleted and wait out the
 * leader's term. The fresh process's connection comes back: it creates the Lease and holds it,
 * leading only one lease duration later, and is stopped (SIGTERM) during that wait. Nobody may lead
 * while the cut-off leader still does.
 */
async function waitingCreatorStopped({ run, leader, start }: FaultContext): Promise<FaultOutcome> {
  const fresh = await startReplica(run, { cut: true });
  await fresh.waitFor((e) => e.type === 'ready', 'start-up');
  await afterNextRenew(run);
  const cut = now();
  leader.proxy.cutOff();
  await deleteLease(run);
  fresh.proxy.restore();
  await fresh.waitFor(
    (e) => e.type === 'log' && /\bleads in \d+ s: it created the Lease/.test(e.message ?? ''),
    'its create of the Lease',
    20_000,
  );
  const created = now();
  await retire(fresh);
  await untilTermOver(cut);
  leader.proxy.restore();
  return {
    note: `fresh ${fresh.id} created the Lease ${Math.round(created - cut)} ms after ${leader.id} was cut off and was stopped while waiting to lead; two leaders ${leadersOverlap(run.events, start, now())} ms`,
  };
}

/**
 * The leader's connections are held back: its requests fail, its watch stays open and delivers
 * what it missed later, in one burst. The Lease (the leader's record) is deleted; another replica
 * waits out the leader's term, creates it and leads; it is cut off right after a renew, and the
 * Lease is deleted again. Then the held connections come back: the burst starts with the deletion
 * of the old leader's own record, while the Lease is missing again now and its last holder, cut
 * off, still leads.
 */
async function leaseDeletedTwice({
  run,
  leader,
  start,
  since,
}: FaultContext): Promise<FaultOutcome> {
  const held = leader.proxy.holdBack();
  await deleteLease(run);
  const deleted = now();
  const led = await waitForEvent(
    run,
    (e) => e.type === 'change' && e.isLeader === true && e.id !== leader.id && e.t > deleted,
    'leader after the first deletion',
    since,
    30_000,
  );
  const successor = run.replicas.find((r) => r.id === led.id)!;
  await afterNextRenew(run);
  const cut = now();
  successor.proxy.cutOff();
  await deleteLease(run);
  leader.proxy.restore();
  await untilTermOver(cut);
  successor.proxy.restore();
  return {
    note: `${leader.id} held back (${held} connections), ${successor.id} led ${Math.round(led.t - deleted)} ms after the first deletion and was cut off before the second; two leaders ${leadersOverlap(run.events, start, now())} ms`,
  };
}

export const LEASE_DELETION_RACES = {
  'lease-deleted-leader-cut': leaseDeletedLeaderCut,
  'waiting-creator-stopped': waitingCreatorStopped,
  'lease-deleted-twice': leaseDeletedTwice,
} satisfies FaultFamily;
