// A fault's result, measured once the run has recovered from it: the longest gap in leader-only
// work, leadership changes for kinds with a goal, the spread part, and its line in the run's log.
import { leadershipMoves, longestGap, type FaultWindow } from '../checker.js';
import { LEADERSHIP_CHANGES_GOAL, OVERLAP_EXPECTED, type FaultName } from '../fault-kinds.js';
import type { FaultOutcome } from '../faults/fault.js';
import { handoverRateProblem, spreadFaultResult, type SpreadFaultResult } from '../spread.js';
import type { ChaosRun } from './chaos-run.js';
import type { HaFaultFigures } from './ha-measures.js';
import type { Replica } from './replica-process.js';

export interface FaultResult extends FaultWindow {
  /** Longest time without committed leader-only work during the fault and its recovery. */
  maxGapMs: number;
  /** Overlap of leader-only work inside the fault window (filled in after the run). */
  overlapMs: number;
  /** A positive control: overlap is expected here (see `OVERLAP_EXPECTED`). */
  overlapExpected?: boolean;
  /**
   * Kinds with a goal (`LEADERSHIP_CHANGES_GOAL`): how many times the leader changed from the
   * injection to the recovery, and the leaders in order (the first led at the injection).
   */
  leadershipChanges?: number;
  leaders?: string[];
  /** `rolling-update`: the replicas it replaced (see `rolloutMoveProblem`). */
  replaced?: string[];
  note?: string;
  /**
   * Leases that still named a replica stopped with SIGTERM after it had exited (a stop must
   * release what it holds, unless its work outlived the grace period, which this suite's never
   * does). Checked by the kinds that stop a replica in the middle of something.
   */
  unreleased?: string[];
  /**
   * Broken promises found by the fault or its measure (handovers beyond the library's bound): each
   * fails the run.
   */
  problems?: string[];
  /**
   * `spread-shares-mixed`: jobs whose share differs between the share counts; their overlap inside
   * the window is the documented double run of a rollout that changes `shares` (reported, not failed).
   */
  movedJobs?: string[];
  /** With `spread`: per share gaps, per job overlap, handovers. */
  spread?: SpreadFaultResult;
  /** With `ha`: leaderless time and requests, ours and client-go's; etcd leader changes. */
  ha?: HaFaultFigures;
}

/** One fault as injected and recovered from. */
export interface RecoveredFault {
  kind: FaultName;
  /** The leader at the injection, and the stable leader after the recovery. */
  leader: Replica;
  next: Replica;
  start: number;
  recovered: number;
  outcome: FaultOutcome;
  /** With `spread`: who ran each share's jobs last at the recovery. */
  shareHolders: string[];
}

/** The fault's result from the run's events (its overlap is filled in after the run). */
export function measureFault(run: ChaosRun, fault: RecoveredFault): FaultResult {
  const { kind, start, recovered, outcome } = fault;
  const moves =
    LEADERSHIP_CHANGES_GOAL[kind] === undefined
      ? undefined
      : leadershipMoves(run.events, fault.leader.id, start, recovered);
  const result: FaultResult = {
    name: kind,
    start,
    recovered,
    maxGapMs: Math.round(longestGap(run.events, start, recovered)),
    overlapMs: 0,
    ...(OVERLAP_EXPECTED.has(kind) ? { overlapExpected: true } : {}),
    ...(moves ? { leadershipChanges: moves.moves, leaders: moves.leaders } : {}),
    ...(outcome.note ? { note: outcome.note } : {}),
    ...(outcome.unreleased ? { unreleased: outcome.unreleased } : {}),
    ...(outcome.replaced ? { replaced: outcome.replaced } : {}),
    ...(outcome.movedJobs ? { movedJobs: outcome.movedJobs } : {}),
  };
  const problems = [...(outcome.problems ?? [])];
  if (run.spread) {
    result.spread = spreadFaultResult(
      run.events,
      run.jobs,
      run.spread.shares,
      result,
      fault.shareHolders,
    );
    const rate = handoverRateProblem(result.spread);
    if (rate) problems.push(rate);
  }
  if (problems.length) result.problems = problems;
  return result;
}

/** The run's log line of fault `n` (0-based) of `total`. */
export function faultLine(
  fault: RecoveredFault,
  result: FaultResult,
  n: number,
  total: number,
): string {
  const changes =
    result.leadershipChanges !== undefined
      ? `, ${result.leadershipChanges} leadership change(s) (${result.leaders!.join(' -> ')})`
      : '';
  const shares = result.spread
    ? `; share gaps ${result.spread.shareGapsMs.join('/')} ms, held by ${fault.shareHolders.join(' ')}, ${result.spread.handovers} handover(s), at most ${result.spread.handoversPerMinute} a minute by one replica`
    : '';
  const ha = result.ha
    ? `; leaderless ${result.ha.leaderlessMs.ours} ms (client-go ${result.ha.leaderlessMs.clientGo} ms), requests ${result.ha.requests.ours} (client-go ${result.ha.requests.clientGo}), etcd leader changes ${result.ha.etcdLeaderChanges}, watch 504s ${result.ha.watch504s}, client-go restarts ${result.ha.clientGoRestarts}`
    : '';
  const note = fault.outcome.note;
  const problems = result.problems ? `; PROBLEMS: ${result.problems.join('; ')}` : '';
  return `  fault ${n + 1}/${total} ${fault.kind}: leader ${fault.leader.id} -> ${fault.next.id}, max gap ${result.maxGapMs} ms${changes}${shares}${ha}${note ? ` (${note})` : ''}${problems}`;
}
