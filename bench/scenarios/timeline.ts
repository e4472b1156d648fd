// Who leads over time across a crash and a graceful shutdown, per implementation: 3 candidates on one
// Lease; the leader is SIGKILLed, then the next leader is SIGTERMed. The result feeds the SVG chart.
import type { CandidateProcess } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import {
  eventsOf,
  firstEvent,
  hostOf,
  leadersOf,
  marks,
  spawnCandidate,
  stopAll,
  type BenchContext,
  type Impl,
  type Profile,
} from '../lib/context.js';
import { sleep } from '../lib/stats.js';
import { waitForSettledLeader } from './takeover.js';

export interface TimelineInterval {
  identity: string;
  start: number;
  end: number;
  /** How the interval ended. */
  endedBy: 'sigkill' | 'sigterm' | 'stopped' | 'end';
}

export interface TimelineSignal {
  identity: string;
  signal: 'SIGKILL' | 'SIGTERM';
  at: number;
  /** When the next leader started. */
  nextLeaderAt: number;
}

export interface TimelineResult {
  impl: Impl;
  profile: Profile;
  lease: string;
  candidates: string[];
  startedAt: number;
  endedAt: number;
  intervals: TimelineInterval[];
  signals: TimelineSignal[];
}

export async function timeline(
  ctx: BenchContext,
  impl: Impl,
  profile: Profile,
): Promise<TimelineResult> {
  const short = impl === 'ours' ? 'ours' : 'go';
  const lease = uniqueName(`timeline-${short}`);
  const names = ['a', 'b', 'c'].map((n) => `${short}-${n}`);
  const group: CandidateProcess[] = [];
  const signals: TimelineSignal[] = [];
  const holdMs = Math.max(2_000, profile.retryPeriod * 3);
  const startedAt = Date.now();
  try {
    for (const identity of names) {
      group.push(spawnCandidate(ctx, { impl, identity, lease, profile }));
      await sleep(300);
    }
    const timeout = profile.leaseDuration + profile.renewDeadline + 30_000;
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const current = await waitForSettledLeader(
        group.filter((c) => !signals.some((s) => s.identity === c.identity)),
        timeout,
      );
      await sleep(holdMs);
      const victim = hostOf(group, current)!;
      const others = group.filter(
        (c) => c !== victim && !signals.some((s) => s.identity === c.identity),
      );
      const since = marks(others);
      const at = Date.now();
      victim.kill(signal);
      const { event } = await firstEvent(
        others,
        (e) => e.event === 'started_leading',
        profile.leaseDuration + profile.renewDeadline + 15_000,
        since,
      );
      signals.push({ identity: victim.identity, signal, at, nextLeaderAt: event.at });
      ctx.log(
        `timeline ${impl}: ${signal} ${victim.identity} -> ${event.identity} after ${Math.round(event.at - at)} ms`,
      );
    }
    await sleep(holdMs);
    const endedAt = Date.now();
    const intervals: TimelineInterval[] = [];
    for (const candidate of group) {
      let start: number | undefined;
      const signal = signals.find((s) => s.identity === candidate.identity);
      for (const e of eventsOf(candidate)) {
        if (e.event === 'started_leading' && start === undefined) start = e.at;
        if ((e.event === 'stopped_leading' || e.event === 'exit') && start !== undefined) {
          intervals.push({
            identity: candidate.identity,
            start,
            end: e.at,
            endedBy: signal?.signal === 'SIGTERM' ? 'sigterm' : 'stopped',
          });
          start = undefined;
        }
      }
      if (start !== undefined) {
        intervals.push(
          signal
            ? { identity: candidate.identity, start, end: signal.at, endedBy: 'sigkill' }
            : { identity: candidate.identity, start, end: endedAt, endedBy: 'end' },
        );
      }
    }
    if (leadersOf(group).length !== 1) {
      ctx.failures.push({ scenario: `timeline ${impl}`, reason: 'no single leader at the end' });
    }
    return { impl, profile, lease, candidates: names, startedAt, endedAt, intervals, signals };
  } catch (error) {
    ctx.failures.push({
      scenario: `timeline ${impl}`,
      reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    await stopAll(group);
  }
}
