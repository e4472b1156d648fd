import type { LeadsLaterCause } from '../../lib/core/elector.messages.js';
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

/**
 * A process that creates (or re-creates) the Lease leads at once: every wait after a create is
 * gone (the decision's and the one the watch's confirmation adds).
 */
class NoWaitAfterCreate extends LeaderElector {
  protected override onWritten(
    written: LeaseRecord,
    requestStart: number,
    wallRequestStart: number,
    _leadsAfter: number | undefined,
    cause: LeadsLaterCause,
  ): void {
    super.onWritten(written, requestStart, wallRequestStart, undefined, cause);
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
