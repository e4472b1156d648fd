// The spread election's log lines (its electors' are in ../elector.messages.ts).
import { describeError } from '../errors.js';
import { printable } from '../foreign-text.js';

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
