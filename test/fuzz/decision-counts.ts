import type { Decision } from '../../lib/core/decide.js';
import type { LeaderElector } from '../../lib/core/leader-elector.js';
import type { LeaseRecord } from '../../lib/core/lease-record.js';
import { loopOf } from './mutants.js';

/**
 * Counts each decision reason (`DecisionReason`) an elector reaches, by wrapping its loop's `decideNow`
 * on this instance only: the engine's behaviour is unchanged. Works for the electors a SpreadElector
 * builds itself too.
 */
export function countDecisions(elector: LeaderElector, counts: Map<string, number>): void {
  const target: { decideNow(record: LeaseRecord | null): Decision } = loopOf(elector);
  const decide = target.decideNow.bind(target);
  target.decideNow = (record) => {
    const decision = decide(record);
    counts.set(decision.why, (counts.get(decision.why) ?? 0) + 1);
    return decision;
  };
}
