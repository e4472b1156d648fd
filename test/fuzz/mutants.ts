import type { Decision } from '../../lib/core/decide.js';
import { LeaderElector } from '../../lib/core/leader-elector.js';
import type { LeaseRecord } from '../../lib/core/lease-record.js';
import type { Leadership } from '../../lib/core/leadership.js';

/**
 * Positive controls: our elector with one safety rule removed, by overriding a protected method
 * (lib/ stays as it is). The fuzzer must catch each within 500 seeds (`--mutant NAME`).
 */

/** `isLeader()` no longer checks the renew deadline at call time (only the validity timer ends the term). */
class NoRenewDeadline extends LeaderElector {
  protected override leadingTerm(): Leadership | null {
    const term = this.leadership;
    if (this.phase !== 'running' || term === null || this.steppingDown) return null;
    return this.clock.now() >= term.validFrom ? term : null;
  }
}

/** A process that never saw the Lease and creates it leads at once, without the wait. */
class NoWaitAfterCreate extends LeaderElector {
  protected override decideNow(record: LeaseRecord | null): Decision {
    const decision = super.decideNow(record);
    if (decision.action !== 'create' || decision.leadsAfter === undefined) return decision;
    const { leadsAfter: _wait, ...withoutWait } = decision;
    return withoutWait;
  }
}

export const MUTANTS = {
  'no-renew-deadline': NoRenewDeadline,
  'no-wait-after-create': NoWaitAfterCreate,
} as const;

export type MutantName = keyof typeof MUTANTS;

export function isMutantName(name: string): name is MutantName {
  return Object.prototype.hasOwnProperty.call(MUTANTS, name);
}
