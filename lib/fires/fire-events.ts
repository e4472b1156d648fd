import type { FireOutcome, FireResult } from '../core/fires/once-job.js';
import { outcomeLine } from './fires.messages.js';

/** A Kubernetes Event about a fire of a `once` job (with the module's `events` option). */
export interface FireEvent {
  /** `FireCaughtUp`, `FireCoalesced`, `FireMissed` or `FireInterrupted`. */
  readonly reason: string;
  /** `Warning` for a fire that did not run (missed) or may have run partly (interrupted). */
  readonly type: 'Normal' | 'Warning';
  /** The outcome's log line: the job, the fire's scheduled instant (ISO, UTC), the election. */
  readonly message: string;
}

/** Reason and type of the outcomes recorded as Events: those an operator did not see run. */
export const FIRE_EVENTS: Readonly<
  Partial<Record<FireResult, Pick<FireEvent, 'reason' | 'type'>>>
> = {
  'caught-up': { reason: 'FireCaughtUp', type: 'Normal' },
  coalesced: { reason: 'FireCoalesced', type: 'Normal' },
  missed: { reason: 'FireMissed', type: 'Warning' },
  interrupted: { reason: 'FireInterrupted', type: 'Warning' },
};

/**
 * The Event recording `outcome`, or undefined when none is recorded: fires that ran at their tick
 * (`ran`) or ran elsewhere (`already-ran`) are routine, counted and logged at debug level only.
 */
export function fireEventOf(outcome: FireOutcome): FireEvent | undefined {
  const kind = FIRE_EVENTS[outcome.result];
  return kind && { ...kind, message: outcomeLine(outcome).text };
}
