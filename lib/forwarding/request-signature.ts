import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the signature of a forwarded request covers. */
export interface SignedRequest {
  readonly method: string;
  /** The request target as the client sent it (path and query). */
  readonly url: string;
  /** The body's bytes as received. */
  readonly body: Buffer;
}

const SCHEME = 'v1=';

/**
 * The signature header's value: HMAC-SHA256 with the shared secret over the method, the request
 * target and the body, so that the leader can tell a request a replica forwarded from one a client
 * made up. Not a replay guard: a captured request can be sent again.
 */
export function signRequest(secret: string, request: SignedRequest): string {
  return SCHEME + digest(secret, request).toString('hex');
}

/** Whether `header` is the signature of `request` with `secret` (constant-time comparison). */
export function verifySignature(
  secret: string,
  request: SignedRequest,
  header: string | string[] | undefined,
): boolean {
  if (typeof header !== 'string' || !header.startsWith(SCHEME)) return false;
  const given = Buffer.from(header.slice(SCHEME.length), 'hex');
  const expected = digest(secret, request);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function digest(secret: string, { method, url, body }: SignedRequest): Buffer {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}\n${url}\n`)
    .update(body)
    .digest();
}
