// The chaos suite's election timings, and the real clock the harness reads (event times, deadlines).

/** Lease duration, renew deadline and retry period of every replica, in ms. */
export const CHAOS_TIMINGS = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

/** Real time in ms (the harness's clock: events of faked replicas are stamped with it). */
export const now = () => performance.timeOrigin + performance.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
