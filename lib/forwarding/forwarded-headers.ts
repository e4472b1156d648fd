import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Marks a request a follower forwarded (its value: the follower's identity). It stops loops (a
 * replica never forwards a request that carries it) and carries no trust: any client can send it.
 */
export const FORWARDED_BY_HEADER = 'x-leader-forwarded-by';

/** The HMAC of a forwarded request, with a shared `secret` (see `request-signature.ts`). */
export const SIGNATURE_HEADER = 'x-leader-signature';

/**
 * On a 503 of a `@LeaderOnly` handler: `not-leader`, the request was refused before the handler
 * ran, so a follower may send it once more (to the leader it then knows of).
 */
export const REFUSED_HEADER = 'x-leader-refused';

/** The value of {@link REFUSED_HEADER}. */
export const REFUSED_NOT_LEADER = 'not-leader';

/** Headers of one connection, never passed on by a proxy (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `headers` without the hop-by-hop ones (those the Connection header names too). */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    kept[name] = value;
  }
  return kept;
}

/** What a follower knows of the client's connection, for `Forwarded` and `X-Forwarded-For`. */
export interface ClientHop {
  /** The client's address as the follower's socket saw it. */
  readonly address: string | undefined;
  /** `http` or `https`, as the follower received the request. */
  readonly protocol: string;
  /** The Host header the client sent. */
  readonly host: string | undefined;
}

/**
 * The headers a follower sends to the leader: the client's end-to-end headers, with its hop
 * appended to `Forwarded` (RFC 7239) and `X-Forwarded-For`, the loop-stop header, and the body's
 * length (the bytes are sent as received).
 */
export function forwardedHeaders(
  headers: IncomingHttpHeaders,
  hop: ClientHop,
  forwardedBy: string,
  bodyLength: number,
): OutgoingHttpHeaders {
  const out = endToEnd(headers);
  delete out['content-length'];
  if (bodyLength > 0 || headers['content-length'] !== undefined) out['content-length'] = bodyLength;
  const node = hop.address === undefined ? 'unknown' : forwardedNode(hop.address);
  const element = [`for=${node}`, `proto=${hop.protocol}`];
  if (hop.host && /^[\x21-\x7e]+$/.test(hop.host))
    element.push(`host="${hop.host.replace(/["\\]/g, '')}"`);
  out.forwarded = appended(headers.forwarded, element.join(';'));
  out['x-forwarded-for'] = appended(headers['x-forwarded-for'], hop.address ?? 'unknown');
  out[FORWARDED_BY_HEADER] = forwardedBy;
  return out;
}

/** An address as a `Forwarded` node: IPv6 quoted in brackets (RFC 7239, 6). */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

function appended(previous: string | string[] | undefined, value: string): string {
  const before = Array.isArray(previous) ? previous.join(', ') : previous;
  return before ? `${before}, ${value}` : value;
}
