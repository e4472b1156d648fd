import { createRequire } from 'node:module';
import path from 'node:path';
import { SetupError } from '../leader-election.errors.js';
import { ONCE_NEEDS_SCHEDULE } from './fires.messages.js';
import type { FireSchedule } from '../core/fires/fire-schedule.js';

/** The part of @nestjs/schedule's `@Cron` options (its SCHEDULE_CRON_OPTIONS metadata) used here. */
export interface CronMetadata {
  readonly cronTime: string | Date | { toJSDate(): Date };
  readonly timeZone?: string;
  readonly utcOffset?: number;
  readonly name?: string;
  readonly disabled?: boolean;
  readonly initialDelay?: number;
}

/** @nestjs/schedule's method metadata holding a `@Cron`'s expression and options. */
export const SCHEDULE_CRON_OPTIONS = 'SCHEDULE_CRON_OPTIONS';

/** The `cron` library's CronTime, as far as it is used here. */
interface CronTimeLike {
  readonly timeZone?: string;
  readonly utcOffset?: number;
  getNextDateFrom(start: Date, timeZone?: string): { toMillis(): number };
}
type CronTimeClass = new (source: string, timeZone?: string, utcOffset?: number) => CronTimeLike;

let cronTimeClass: CronTimeClass | undefined;

/**
 * The `cron` library that @nestjs/schedule itself uses (resolved from its own location), so that
 * fires are computed exactly as its timers tick: never a second parser. @nestjs/schedule is found as
 * the app finds it, from the main script or the working directory: not from this file's location,
 * which needs `import.meta`, which jest's CommonJS transform (a Nest 11 project's tests) cannot
 * compile.
 */
function cronTime(): CronTimeClass {
  if (cronTimeClass) return cronTimeClass;
  const starts = [process.argv[1], path.join(process.cwd(), 'main.js')];
  for (const start of starts) {
    if (!start) continue;
    let schedule: string;
    try {
      schedule = createRequire(path.resolve(start)).resolve('@nestjs/schedule');
    } catch {
      continue; // not found from there
    }
    cronTimeClass = (createRequire(schedule)('cron') as { CronTime: CronTimeClass }).CronTime;
    return cronTimeClass;
  }
  throw new SetupError(ONCE_NEEDS_SCHEDULE);
}

/** The zone `utcOffset` (minutes) names, as the cron library names it. */
function offsetZone(utcOffset: number): string {
  const sign = utcOffset < 0 ? '-' : '+';
  const hours = Math.trunc(Math.abs(utcOffset) / 60);
  const minutes = Math.abs(utcOffset) - hours * 60;
  return `UTC${sign}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

/**
 * A `@Cron` job's schedule: its expression evaluated by the cron library in the job's zone (its
 * `timeZone`, its `utcOffset`, else the process's), or its one instant for `@Cron(date)`.
 */
export function cronSchedule(metadata: CronMetadata): FireSchedule {
  const explicitZone = metadata.timeZone !== undefined || metadata.utcOffset !== undefined;
  const source = metadata.cronTime;
  if (typeof source !== 'string') {
    // A one-shot: one instant, in no zone.
    const at = source instanceof Date ? source.getTime() : source.toJSDate().getTime();
    return { next: (after) => (at > after ? at : undefined), zone: 'UTC', explicitZone: true };
  }
  const CronTime = cronTime();
  const time = new CronTime(source, metadata.timeZone, metadata.utcOffset);
  const zone =
    metadata.utcOffset !== undefined
      ? offsetZone(metadata.utcOffset)
      : (time.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  return {
    next: (after) => {
      try {
        return time.getNextDateFrom(new Date(after), zone).toMillis();
      } catch {
        return undefined; // no instant ahead (the library gives up on impossible dates)
      }
    },
    zone,
    explicitZone,
  };
}
