import { printable } from '../core/foreign-text.js';
import {
  CONNECTION_REFUSED,
  CONNECTION_TIMED_OUT,
  NAME_NOT_RESOLVED,
  TLS_FAILED,
} from './kubernetes.messages.js';
import { redact } from './redact.js';

/** How deep a cause chain is followed (undici: `fetch failed` -> the socket's error). */
const MAX_DEPTH = 5;

/** What to check, by the error code of the lowest cause. */
function hintFor(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  if (code === 'ECONNREFUSED') return CONNECTION_REFUSED;
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'].includes(code)) return NAME_NOT_RESOLVED;
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return CONNECTION_TIMED_OUT;
  const tls =
    code === 'EPROTO' ||
    /^ERR_(SSL|TLS)_/.test(code) ||
    /CERT|^UNABLE_TO_(GET|VERIFY|DECRYPT)/.test(code);
  return tls ? TLS_FAILED : undefined;
}

/**
 * Why a request got no answer, from the error client-node threw down its `cause` chain: client-node
 * 1.x's node-fetch says it in its message (after `reason:`, the URL before it is left out), 2.x's
 * `TypeError('fetch failed')` in its cause (the socket's error: `connect ECONNREFUSED 10.0.0.1:6443`,
 * `getaddrinfo ENOTFOUND api.example`, an OpenSSL error), a connection to several addresses in an
 * AggregateError. Each message is redacted (a credential plugin's stderr can reach here), then a
 * hint of what to check follows for refused connections, names that do not resolve, TLS failures
 * and timeouts.
 */
export function describeTransportFailure(error: Error): string {
  const chain: Error[] = [];
  // Duck-typed: errors from another realm (undici's, in a test runner's sandbox) are no `Error` here.
  for (let at: unknown = error; isError(at) && chain.length < MAX_DEPTH; at = at.cause) {
    chain.push(at);
  }
  const messages = chain
    .map(messageOf)
    // `fetch failed` says nothing its cause does not say better.
    .filter((message, i) => message && !(message === 'fetch failed' && i < chain.length - 1));
  const code = chain
    .map((at) => (at as { code?: unknown }).code)
    .filter((value): value is string => typeof value === 'string')
    .at(-1);
  let text = messages.join(': ') || error.name;
  if (code !== undefined && !text.includes(code)) text += ` (${printable(code, 64)})`;
  const hint = hintFor(code);
  return hint ? `${text}: ${hint}` : text;
}

function messageOf(error: Error): string {
  let message = error.message;
  const { errors } = error as { errors?: unknown };
  if (!message && Array.isArray(errors)) {
    message = errors.map((inner) => (isError(inner) ? inner.message : '')).join(', ');
  }
  // node-fetch: `request to <url> failed, reason: <the socket's error>`.
  const reason = /^request to \S+ failed, reason: ([\s\S]*)$/.exec(message);
  if (reason) message = reason[1];
  // OpenSSL: `<hex>:error:<hex>:SSL routines:<function>:<reason>:<source file>:<line>:`.
  message = message.replace(/[0-9A-F]+:error:[0-9A-F]+:([^:]+):[^:]*:([^:]+):[^\s]*/g, '$1: $2');
  return redact(message.trim());
}

export function isError(value: unknown): value is Error {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}
