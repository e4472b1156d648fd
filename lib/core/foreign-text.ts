// Text written by someone else (a Lease's holderIdentity) on its way into log lines, error messages,
// response bodies and headers: escaped so that it cannot forge a log line or split a header, and
// capped so that it cannot flood them.

/** Longest identity accepted, and the most of a foreign one shown: a DNS subdomain's length. */
export const MAX_IDENTITY_LENGTH = 253;

/** C0 and C1 controls, DEL, line and paragraph separators, and bidirectional formatting. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** At most `max` characters (code points) of `text`, and how many were left out. */
function cap(text: string, max: number): { kept: string; omitted: number } {
  const characters = Array.from(text);
  if (characters.length <= max) return { kept: text, omitted: 0 };
  return { kept: characters.slice(0, max).join(''), omitted: characters.length - max };
}

/**
 * `text` for a log line or a message: control, separator and bidi characters escaped (`\n`,
 * `\u001b`), and cut after `max` characters with a note of how many were left out.
 */
export function printable(text: string, max: number = MAX_IDENTITY_LENGTH): string {
  const { kept, omitted } = cap(text, max);
  const escaped = kept.replace(
    UNSAFE,
    (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return omitted > 0 ? `${escaped}…(${omitted} more characters)` : escaped;
}

/**
 * `text` for an HTTP header value: printable ASCII kept, `%` and everything else percent-encoded
 * as UTF-8 (a lone surrogate as U+FFFD), cut after `max` characters.
 */
export function headerValue(text: string, max: number = MAX_IDENTITY_LENGTH): string {
  let out = '';
  for (const c of cap(text, max).kept) {
    if (c !== '%' && c >= ' ' && c <= '~') out += c;
    else out += encodeURIComponent(/^[\ud800-\udfff]$/.test(c) ? '\ufffd' : c);
  }
  return out;
}

/** Whether `text` is printable ASCII (space to `~`) of at most {@link MAX_IDENTITY_LENGTH} characters. */
export function isPrintableIdentity(text: string): boolean {
  return text.length <= MAX_IDENTITY_LENGTH && /^[\x20-\x7e]*$/.test(text);
}
