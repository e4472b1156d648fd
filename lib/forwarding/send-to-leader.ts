import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { LeaderAddress } from '../core/index.js';
import { REFUSED_HEADER, REFUSED_NOT_LEADER } from './forwarded-headers.js';

/** One request to the leader, as the follower sends it. */
export interface LeaderRequest {
  readonly address: LeaderAddress;
  readonly method: string;
  /** The request target as the client sent it (path and query). */
  readonly url: string;
  readonly headers: OutgoingHttpHeaders;
  /** The body's bytes as received. */
  readonly body: Buffer;
  /** Milliseconds to wait for the answer to begin (from the start, connecting included). */
  readonly timeout: number;
}

/**
 * What became of a request sent to the leader.
 * - `answered`: the leader's answer began (status and headers); its body streams from `response`.
 * - `refused`: the leader answered its not-leader 503 (`X-Leader-Refused: not-leader`): the
 *   handler did not run; the answer's body is drained.
 * - `unreachable`: no connection was made; nothing was sent.
 * - `timeout`: connected, no answer within the timeout: the request may have run.
 * - `failed`: the connection broke after it was made: the request may have run.
 */
export type LeaderOutcome =
  | { readonly kind: 'answered'; readonly response: IncomingMessage }
  | { readonly kind: 'refused' }
  | { readonly kind: 'unreachable' | 'timeout' | 'failed'; readonly error?: string };

/**
 * Sends one request to the leader, once: never retried here, whatever happens. A fresh connection
 * per request (no keep-alive pool), so that a connection error always tells whether anything was
 * sent: with a pooled connection the server may have closed it while the request was on its way.
 * Never rejects.
 */
export function sendToLeader(request: LeaderRequest): Promise<LeaderOutcome> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const settle = (outcome: LeaderOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const outgoing = httpRequest({
      host: request.address.ip,
      port: request.address.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
      agent: false,
      // The client's Host header goes on; Node must not replace it with the leader's address.
      setHost: request.headers.host === undefined,
    });
    const timer = setTimeout(() => {
      settle({ kind: connected ? 'timeout' : 'unreachable', error: 'timed out' });
      outgoing.destroy();
    }, request.timeout);
    outgoing.once('socket', (socket) => {
      socket.once('connect', () => {
        connected = true;
      });
    });
    outgoing.once('response', (response) => {
      if (response.statusCode === 503 && response.headers[REFUSED_HEADER] === REFUSED_NOT_LEADER) {
        response.resume();
        settle({ kind: 'refused' });
        return;
      }
      settle({ kind: 'answered', response });
    });
    outgoing.once('error', (error: NodeJS.ErrnoException) => {
      settle({ kind: connected ? 'failed' : 'unreachable', error: error.code ?? error.message });
    });
    outgoing.end(request.body);
  });
}
