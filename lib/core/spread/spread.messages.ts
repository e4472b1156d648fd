// The spread election's log lines (its electors' are in ../elector.messages.ts).
import { describeError } from '../errors.js';
import { printable } from '../foreign-text.js';
import type { HoldReason } from './share-count-gate.js';

// A successor's name comes from the membership Lease, which anyone with access can write: escaped.

/** `lease`: the share's Lease name. */
export const HANDING_SHARE_OVER = (share: number, lease: string, successor: string) =>
  `handing share ${share} (${lease}) over to ${printable(successor)} to even out the shares`;

export const SHARE_NOT_HANDED_OVER = (share: number, error: unknown) =>
  `share ${share} not handed over: ${describeError(error)}`;

export const SUCCESSOR_DID_NOT_TAKE = (successor: string, share: number, lease: string) =>
  `${printable(successor)} did not take share ${share} (${lease}) handed over to it: no more shares for it ` +
  'until it renews its membership';

export const HANDOVERS_PAUSED = (limit: number) =>
  `${limit} shares handed over in the last minute: no more handovers until a minute after the first`;

// A job's name is the app's own (a method or `@LeaderOnly({ job })`), escaped all the same.

/** `lease`: the job's share's Lease, which this replica leads. */
export const JOB_HELD_BACK = (job: string, share: number, lease: string, reason: HoldReason) =>
  `job ${printable(job)} held back on share ${share} (${lease}): ` +
  (reason.kind === 'not-joined'
    ? 'this replica has not written its membership entry yet, so it cannot tell which share counts run'
    : `members with ${reason.counts.join(' or ')} shares, which map it to another share, joined ` +
      'before this replica and may run it; it runs here once none is left (a rollout changing shares)');

export const JOB_RUNS_AGAIN = (job: string, share: number, lease: string) =>
  `job ${printable(job)} runs on share ${share} (${lease}) again: no member with another share count ` +
  'that maps it elsewhere is left';
