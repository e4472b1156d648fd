import type { LeaderElector } from '../core/index.js';
import {
  SKIPPED_IDENTITY_ELSEWHERE,
  SKIPPED_NOT_LEADER,
  SKIPPED_NOT_LEADER_YET,
} from '../leader-election.messages.js';

/** Per elector and job: the leader term its last skip line was said in. */
const saidIn = new WeakMap<LeaderElector, Map<string, string>>();

/**
 * The debug line for a follower's skipped `@LeaderOnly` call, or undefined when this job's skip was
 * said already in this leader term: a job on a timer would otherwise say it at every tick on every
 * follower (Nest's default logger prints debug lines). While the Lease names this instance without
 * it leading (the first-election wait), the line says so instead of naming it as the leader.
 */
export function skipLine(
  elector: LeaderElector,
  election: string,
  job: string,
  className: string,
  methodName: string,
): string | undefined {
  const leader = elector.getLeader();
  const term = `${leader ?? ''}\n${elector.currentState?.term ?? ''}`;
  let said = saidIn.get(elector);
  if (!said) saidIn.set(elector, (said = new Map()));
  if (said.get(job) === term) return undefined;
  said.set(job, term);
  const lease = elector.lock.description;
  if (leader === null || leader !== elector.identity) {
    return SKIPPED_NOT_LEADER(className, methodName, election, lease, leader);
  }
  return elector.status().holdsLease
    ? SKIPPED_NOT_LEADER_YET(className, methodName, election, lease)
    : SKIPPED_IDENTITY_ELSEWHERE(className, methodName, election, lease);
}
