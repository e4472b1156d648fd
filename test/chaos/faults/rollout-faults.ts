// Faults of replicas being replaced or joining: a Deployment's rolling update, and SIGTERM to a
// replica while it hands a share over to a newcomer (spread runs only).
import { rollingUpdate as driveRollingUpdate } from '../../support/rolling-update.js';
import { handedOver } from '../spread.js';
import { leasesHeldBy } from '../runner/lease-access.js';
import { waitForEvent, waitForStableLeader } from '../runner/recovery-waits.js';
import { live, retire, startReplica, stopWith } from '../runner/replica-lifecycle.js';
import type { Replica } from '../runner/replica-process.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** How long each step of a spread job takes while a replica hands a share over (a 1 s job). */
const SLOW_JOB_STEP_MS = 250;
/** ... and at all other times (replica.ts's default). */
const JOB_STEP_MS = 10;

/**
 * A Deployment's rolling update (test/support/rolling-update.ts): every live replica is replaced
 * once. Each step starts a new replica, waits until it follows the current leader (every live
 * replica names it) and one more retry period, then SIGTERMs an old replica, the leader whenever
 * an old replica leads, and waits for it to exit. It begins once the leader has led one lease
 * duration, as a rollout usually finds it. The new replicas run a new revision
 * (`POD_TEMPLATE_HASH`): each announces itself, and the old leader names the newest as its
 * successor, so leadership moves once. Two retry periods are the readiness margin.
 */
async function rollingUpdate({ run, leader }: FaultContext): Promise<FaultOutcome> {
  const old = live(run);
  const acquired = [...leader.events]
    .reverse()
    .find((e) => e.type === 'change' && e.isLeader === true);
  const established =
    (acquired?.t ?? 0) + CHAOS_TIMINGS.leaseDuration + 2 * CHAOS_TIMINGS.retryPeriod;
  await sleep(Math.max(0, established - now()));
  // The Deployment's new ReplicaSet: its Pods carry a new pod-template-hash.
  run.revision = `rev${Number(run.revision.slice(3)) + 1}`;
  await driveRollingUpdate<Replica>({
    old,
    start: () => startReplica(run),
    follows: () => waitForStableLeader(run),
    readyMs: 2 * CHAOS_TIMINGS.retryPeriod,
    stop: retire,
  });
  return { replaced: old.map((r) => r.id) };
}

/**
 * A new replica joins; a replica above its quota of shares steps down from one, naming the
 * newcomer, and while that step-down waits for the share's jobs (slowed to a second each here, as
 * real jobs take; they stop at their next step) it gets SIGTERM. Its stop must release every Lease
 * it holds, the share it was handing over included. Only a handover to this fault's newcomer
 * counts: one still evening out an earlier change may find no job running (a share taken a moment
 * before).
 */
async function sigtermDuringHandover({ run, since }: FaultContext): Promise<FaultOutcome> {
  for (const r of live(run)) r.send({ jobStepMs: SLOW_JOB_STEP_MS });
  const joiner = await startReplica(run);
  const handing = await waitForEvent(
    run,
    (e) => handedOver(e) && e.message!.includes(` over to ${joiner.identity} to even out`),
    `share handed over to the new replica ${joiner.id}`,
    since,
  );
  const giver = run.replicas.find((r) => r.id === handing.id)!;
  await stopWith(giver, 'SIGTERM');
  const unreleased = await leasesHeldBy(run, giver.identity);
  for (const r of live(run)) r.send({ jobStepMs: JOB_STEP_MS });
  const released = unreleased.length
    ? `${unreleased.join(', ')} still named it after it exited`
    : 'it released every Lease it held';
  return {
    note: `${giver.id} got SIGTERM while ${handing.message?.replace(/ to even out.*$/, '')}: ${released}`,
    unreleased,
  };
}

export const ROLLOUT_FAULTS = {
  'rolling-update': rollingUpdate,
  'sigterm-during-handover': sigtermDuringHandover,
} satisfies FaultFamily;
