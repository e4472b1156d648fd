import { printable } from '../core/foreign-text.js';

/** How much of a foreign text (a plugin's stderr, a proxy's error page) an error message keeps. */
export const MAX_FOREIGN_TEXT = 300;

const REDACTED = '[redacted]';

/** PEM blocks (private keys, certificates), whole or cut off. */
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;
/** `Authorization: Bearer x`, `Basic x`. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+\S+/gi;
/** `token: x`, `password=x`, `"client-key-data": "x"`, and similar. */
const SECRET_FIELD =
  /\b((?:[\w-]*(?:token|password|passwd|secret|credential|api[-_]?key|private[-_]?key|client[-_]key(?:[-_]data)?)s?)["']?)(\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)/gi;
/** Long opaque strings with letters and digits: tokens, keys, base64 data. */
const OPAQUE = /[A-Za-z0-9+/=_-]{24,}/g;
/** A URL's user info (`https://user:password@host`). */
const USER_INFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
/**
 * Kubernetes API paths (`/apis/coordination.k8s.io/v1/namespaces/apps/leases/billing`) and a watch's
 * name selector: lowercase names only, as the API server's are, so they carry no token or key. Kept
 * as they are, else the namespace and the Lease's name would read as opaque strings; a query string
 * after them is redacted as any text.
 */
const API_PATH = /\/apis?(?:\/[a-z0-9.-]+)+\/?|\bmetadata\.name%3D[a-z0-9.-]+/g;

/**
 * Text from outside this library (an exec credential plugin's stderr, a non-JSON error body) for a
 * log line or an error message: PEM blocks, authorization values, the values of secret-sounding
 * fields, a URL's user info and long opaque strings (outside Kubernetes API paths, which stay
 * readable) replaced by `[redacted]`, then control characters escaped and the text cut after `max`
 * characters. Best effort: a short secret printed bare cannot be recognised.
 */
export function redact(text: string, max: number = MAX_FOREIGN_TEXT): string {
  // Bounded work on a huge text; a word cut at the end is dropped with it.
  const head = text.length > 16 * max ? text.slice(0, 16 * max).replace(/\S*$/, '') : text;
  const redacted = head
    .replace(PEM, REDACTED)
    .replace(AUTH_SCHEME, (_, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(
      SECRET_FIELD,
      (_, field: string, separator: string) => `${field}${separator}${REDACTED}`,
    )
    .replace(USER_INFO, (_, scheme: string) => `${scheme}${REDACTED}@`);
  return printable(outsideApiPaths(redacted, hideOpaque).trim(), max);
}

function hideOpaque(text: string): string {
  return text.replace(OPAQUE, (match) =>
    /[0-9]/.test(match) && /[A-Za-z]/.test(match) ? REDACTED : match,
  );
}

/** Applies `transform` to the text between {@link API_PATH}s, which stay as they are. */
function outsideApiPaths(text: string, transform: (part: string) => string): string {
  let result = '';
  let from = 0;
  for (const match of text.matchAll(API_PATH)) {
    result += transform(text.slice(from, match.index)) + match[0];
    from = match.index + match[0].length;
  }
  return result + transform(text.slice(from));
}
