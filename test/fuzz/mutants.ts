import type { ElectionLoop } from '../../lib/core/election-loop.js';
import type { LeaderElectorOptions } from '../../lib/core/elector-options.js';
import { LeaderElector } from '../../lib/core/leader-elector.js';

/**
 * Positive controls: our elector with one safety rule removed, by replacing one method of its
 * loop on that instance (lib/ stays as it is). The fuzzer must catch each within 500 seeds
 * (`--mutant NAME`).
 */

/** The elector's acquire / renew loop (a private part: reached here to break it on purpose). */
export function loopOf(elector: LeaderElector): ElectionLoop {
  return (elector as unknown as { loop: ElectionLoop }).loop;
}

/** `isLeader()` no longer checks the renew deadline at call time (only the validity timer ends the term). */
class NoRenewDeadline extends LeaderElector {
  constructor(options: LeaderElectorOptions) {
    super(options);
    const loop = loopOf(this);
    loop.leadingTerm = () => {
      const term = loop.leadership;
      if (loop.phase !== 'running' || term === null || loop.steppingDown) return null;
      return loop.clock.now() >= term.validFrom ? term : null;
    };
  }
}

/**
 * A process that creates (or re-creates) the Lease leads at once: every wait after a create is
 * gone (the decision's and the one the watch's confirmation adds).
 */
class NoWaitAfterCreate extends LeaderElector {
  constructor(options: LeaderElectorOptions) {
    super(options);
    const loop = loopOf(this);
    const onWritten = loop.onWritten.bind(loop);
    loop.onWritten = (written, requestStart, wallRequestStart, _leadsAfter, cause) =>
      onWritten(written, requestStart, wallRequestStart, undefined, cause);
  }
}

/** The claims of `once` fires, with the ledger's check removed (claimed whatever the ledger holds). */
class ClaimsUnchecked extends LeaderElector {
  constructor(options: LeaderElectorOptions) {
    super(options);
    const fires = loopOf(this).fires as unknown as {
      pending: { request: { job: string } }[];
      addClaims(jobs: Record<string, unknown>, term: number): void;
    };
    const addClaims = fires.addClaims.bind(fires);
    fires.addClaims = (jobs, term) => {
      const entries = { ...jobs };
      for (const claim of fires.pending) delete jobs[claim.request.job];
      addClaims(jobs, term);
      for (const [job, entry] of Object.entries(entries)) jobs[job] ??= entry;
    };
  }
}

export const MUTANTS = {
  'no-renew-deadline': NoRenewDeadline,
  'no-wait-after-create': NoWaitAfterCreate,
  // With --once only: it breaks fire-once, which only a once job can show.
  'claims-unchecked': ClaimsUnchecked,
} as const;

export type MutantName = keyof typeof MUTANTS;

export function isMutantName(name: string): name is MutantName {
  return Object.prototype.hasOwnProperty.call(MUTANTS, name);
}
