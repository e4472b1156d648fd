/**
 * A job's schedule as the claims need it: the instants it falls due, from the same cron library
 * that ticks the job (the Nest layer adapts `@nestjs/schedule`'s), and the zone it is evaluated in.
 */
export interface FireSchedule {
  /** The first instant strictly after `after` (ms since the epoch), or undefined when none. */
  next(after: number): number | undefined;
  /** The zone the schedule is evaluated in (an IANA name or `UTC+hh:mm`). */
  readonly zone: string;
  /** Whether the job names its zone; without, the process's zone applies. */
  readonly explicitZone: boolean;
}

/** The furthest back {@link latestAtOrBefore} looks, ms (a yearly job's previous fire). */
const LOOK_BACK_LIMIT = 400 * 24 * 3600 * 1000;

/**
 * The latest instant at or before `time`, or undefined when none within 400 days. A cron tick
 * carries no scheduled instant: this is how a tick learns which fire it is. The library only looks
 * forward, so this looks back in doubling steps, then forward from there.
 */
export function latestAtOrBefore(schedule: FireSchedule, time: number): number | undefined {
  for (let span = 1_000; span <= LOOK_BACK_LIMIT * 2; span *= 2) {
    let instant = schedule.next(time - span);
    if (instant === undefined || instant > time) continue;
    for (;;) {
      const following = schedule.next(instant);
      if (following === undefined || following > time) return instant;
      instant = following;
    }
  }
  return undefined;
}

/**
 * The job's period for pruning: the gap between its next two instants after `from` (ms), or one
 * day when it has fewer than two.
 */
export function periodOf(schedule: FireSchedule, from: number): number {
  const first = schedule.next(from);
  const second = first === undefined ? undefined : schedule.next(first);
  return first === undefined || second === undefined ? 24 * 3600 * 1000 : second - first;
}

/** The most instants one catch-up enumerates; older ones are counted as missed without a list. */
export const MAX_ENUMERATED = 100_000;

/**
 * The instants strictly after `after` and at or before `until`, in order, at most
 * {@link MAX_ENUMERATED}: `truncated` says the enumeration stopped before `until`.
 */
export function instantsBetween(
  schedule: FireSchedule,
  after: number,
  until: number,
): { instants: number[]; truncated: boolean } {
  const instants: number[] = [];
  let instant = schedule.next(after);
  while (instant !== undefined && instant <= until) {
    if (instants.length === MAX_ENUMERATED) return { instants, truncated: true };
    instants.push(instant);
    instant = schedule.next(instant);
  }
  return { instants, truncated: false };
}
