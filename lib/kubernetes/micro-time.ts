/**
 * Kubernetes `MicroTime` encoding. The API server parses `acquireTime` / `renewTime` only with
 * exactly six fractional digits (RFC 3339 with microseconds); a JavaScript `Date` serializes three,
 * which the server rejects with 400.
 */
export function formatMicroTime(date: Date): string {
  const iso = date.toISOString(); // always YYYY-MM-DDTHH:mm:ss.sssZ for years 0-9999
  return `${iso.slice(0, -1)}000Z`;
}

/**
 * Parses a MicroTime (or Time) value written by any client: Go's RFC 3339 with 0-9 fractional
 * digits, a `Date` produced by a deserializer, or garbage written by hand. Returns null for
 * anything that is not a valid time; the election never depends on these values.
 */
export function parseMicroTime(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const match =
    /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/.exec(
      value.trim(),
    );
  if (!match) return null;
  const [, day, time, fraction = '', zone] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const parsed = new Date(`${day}T${time}.${millis}${zone.toUpperCase() === 'Z' ? 'Z' : zone}`);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
}
