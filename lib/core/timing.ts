import { InvalidOptionError } from './errors.js';

/** Timing of one election, in milliseconds. The defaults are {@link DEFAULT_TIMINGS}. */
export interface ElectionTimings {
  /** How long followers wait after the last observed change before taking over. */
  readonly leaseDuration: number;
  /** How long a leader keeps leading without a successful renew. */
  readonly renewDeadline: number;
  /**
   * Pause between retries after an error, and a follower's cadence while its watch is down (the
   * leader renews every `renewInterval`, see `LeaderElectorOptions`).
   */
  readonly retryPeriod: number;
}

/** client-go's defaults (kube-controller-manager's): 15 s lease, 10 s renew deadline, 2 s retry period. */
export const DEFAULT_TIMINGS: ElectionTimings = Object.freeze({
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
});

/**
 * The longest `leaseDurationSeconds` of another holder that is taken at face value (one hour).
 * Longer values are treated as invalid, like zero or negative ones: see docs/reliability.md. Our own
 * lease duration is bounded by it too, so that peers honour what we write.
 */
export const MAX_HONORED_LEASE_DURATION_SECONDS = 3600;

/** client-go's rule: renewDeadline must exceed retryPeriod by this factor (its JitterFactor). */
export const RETRY_JITTER_FACTOR = 1.2;

/**
 * Checks `leaseDuration > renewDeadline > 1.2 * retryPeriod > 0` (client-go's rule) and that each
 * value is a finite number of milliseconds. Throws an {@link InvalidOptionError} naming the option.
 */
export function validateTimings(timings: ElectionTimings): ElectionTimings {
  for (const option of ['leaseDuration', 'renewDeadline', 'retryPeriod'] as const) {
    const value = timings[option];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new InvalidOptionError(
        option,
        'must be a positive, finite number of milliseconds',
        value,
      );
    }
  }
  if (timings.leaseDuration < 1000) {
    throw new InvalidOptionError(
      'leaseDuration',
      'must be at least 1000 ms (the Lease stores whole seconds)',
      timings.leaseDuration,
    );
  }
  if (timings.leaseDuration > MAX_HONORED_LEASE_DURATION_SECONDS * 1000) {
    throw new InvalidOptionError(
      'leaseDuration',
      `must be at most ${MAX_HONORED_LEASE_DURATION_SECONDS * 1000} ms (one hour): other ` +
        'candidates treat a longer duration as invalid and would not wait for it',
      timings.leaseDuration,
    );
  }
  if (!(timings.leaseDuration > timings.renewDeadline)) {
    throw new InvalidOptionError(
      'leaseDuration',
      `must be greater than renewDeadline (${timings.renewDeadline} ms)`,
      timings.leaseDuration,
    );
  }
  if (!(timings.renewDeadline > RETRY_JITTER_FACTOR * timings.retryPeriod)) {
    throw new InvalidOptionError(
      'renewDeadline',
      `must be greater than ${RETRY_JITTER_FACTOR} * retryPeriod (${RETRY_JITTER_FACTOR * timings.retryPeriod} ms)`,
      timings.renewDeadline,
    );
  }
  return timings;
}

/**
 * The lease duration written to the Lease. The API stores whole seconds; rounding UP keeps the
 * guarantee (others wait at least as long as we promised), rounding down would not.
 */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.ceil(leaseDurationMs / 1000);
}
