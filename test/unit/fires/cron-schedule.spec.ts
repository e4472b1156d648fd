// A @Cron job's fires as the claims compute them: the cron library @nestjs/schedule uses, in the job's
// zone, with daylight saving time as that library handles it (Europe/Berlin: clocks go forward on
// 2026-03-29 at 02:00, back on 2026-10-25 at 03:00).
import { latestAtOrBefore } from '../../../lib/core/fires/fire-schedule.js';
import { cronSchedule } from '../../../lib/fires/cron-schedule.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const at = (text: string) => new Date(text).getTime();

describe('cron schedules of once jobs', () => {
  const nightly = cronSchedule({ cronTime: '30 2 * * *', timeZone: 'Europe/Berlin' });

  it('runs a time in the spring-forward gap at the first instant after it', () => {
    // 02:30 does not exist on 2026-03-29: the fire is 03:00 CEST (01:00 UTC).
    expect(iso(nightly.next(at('2026-03-28T12:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(latestAtOrBefore(nightly, at('2026-03-29T01:00:00.005Z')))).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });

  it('runs a time in the fall-back overlap once', () => {
    const first = nightly.next(at('2026-10-24T12:00:00Z'))!;
    expect(iso(first)).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST
    expect(iso(nightly.next(first))).toBe('2026-10-26T01:30:00.000Z'); // not 02:30 CET too
    // The tick at 02:30 CEST is that fire; catch-up walks the same chain, so never a second one.
    expect(iso(latestAtOrBefore(nightly, at('2026-10-25T00:30:00.004Z')))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('evaluates a fixed utcOffset and records its zone; the process zone when none is named', () => {
    const hourly = cronSchedule({ cronTime: '0 30 * * * *', utcOffset: 90 });
    expect(hourly.zone).toBe('UTC+01:30');
    expect(hourly.explicitZone).toBe(true);
    expect(iso(hourly.next(at('2026-01-01T00:10:00Z')))).toBe('2026-01-01T01:00:00.000Z');
    const plain = cronSchedule({ cronTime: '0 * * * * *' });
    expect(plain.explicitZone).toBe(false);
    expect(plain.zone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('gives a @Cron(date) one-shot its one instant', () => {
    const once = cronSchedule({ cronTime: new Date('2026-12-24T18:00:00Z') });
    expect(iso(once.next(at('2026-12-01T00:00:00Z')))).toBe('2026-12-24T18:00:00.000Z');
    expect(once.next(at('2026-12-24T18:00:00Z'))).toBeUndefined();
    expect(iso(latestAtOrBefore(once, at('2026-12-24T18:00:00.002Z')))).toBe(
      '2026-12-24T18:00:00.000Z',
    );
  });
});
