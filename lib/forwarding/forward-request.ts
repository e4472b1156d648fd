import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  BadGatewayException,
  ForbiddenException,
  GatewayTimeoutException,
  InternalServerErrorException,
  PayloadTooLargeException,
  type ExecutionContext,
} from '@nestjs/common';
import type { LeaderElector } from '../core/index.js';
import {
  FORWARDED_BY_HEADER,
  SIGNATURE_HEADER,
  endToEnd,
  forwardedHeaders,
} from './forwarded-headers.js';
import type { ResolvedForwarding } from './forwarding-options.js';
import * as messages from './forwarding.messages.js';
import { signRequest, verifySignature } from './request-signature.js';
import { sendToLeader, type LeaderOutcome } from './send-to-leader.js';

/** How a follower's forwarding of one request ended (the metric's `result` label). */
export type ForwardResult =
  | 'answered'
  | 'retried'
  | 'no-leader'
  | 'leading'
  | 'not-allowed'
  | 'unreachable'
  | 'timeout'
  | 'failed'
  | 'refused';

/** An HTTP request and its response, on Express or Fastify alike. */
export interface HttpExchange {
  readonly method: string;
  /** The request target as the client sent it (path and query). */
  readonly url: string;
  readonly raw: IncomingMessage;
  /** The response as Node's, written directly once the leader's answer arrives. */
  readonly response: ServerResponse;
  /** The body's bytes as received, when they were kept (`rawBody`) or there is none. */
  readonly body: () => Promise<Buffer | undefined>;
  /** Tells the framework that the response is written outside it (Fastify's `hijack()`). */
  readonly takeOver: () => void;
}

/** The exchange of an HTTP execution context. */
export function httpExchange(context: ExecutionContext): HttpExchange {
  const http = context.switchToHttp();
  const request = http.getRequest<{
    raw?: IncomingMessage;
    originalUrl?: string;
    url?: string;
    rawBody?: unknown;
  }>();
  const reply = http.getResponse<{ raw?: ServerResponse; hijack?: () => void }>();
  const raw = request.raw ?? (request as unknown as IncomingMessage);
  const response = reply.raw ?? (reply as unknown as ServerResponse);
  return {
    method: raw.method ?? 'GET',
    url: request.originalUrl ?? raw.url ?? '/',
    raw,
    response,
    body: () => bodyOf(raw, request.rawBody),
    takeOver: () => reply.hijack?.(),
  };
}

/**
 * The body's bytes: the parsers' copy (`rawBody`), none when the request declares none, or read
 * here when no parser touched the stream (a type the app does not parse, on Express). Undefined
 * when a parser consumed it without keeping the bytes.
 */
async function bodyOf(raw: IncomingMessage, rawBody: unknown): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(rawBody)) return rawBody;
  const length = raw.headers['content-length'];
  const declared = raw.headers['transfer-encoding'] !== undefined || Number(length ?? 0) > 0;
  if (!declared) return Buffer.alloc(0);
  if (raw.readableEnded || raw.readableDidRead) return undefined;
  if (Number(length ?? 0) > MAX_UNPARSED_BODY)
    throw new PayloadTooLargeException(messages.BODY_TOO_LARGE(MAX_UNPARSED_BODY));
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    // Anyone can send a request marked as forwarded: never hold more than the parsers would.
    if (size > MAX_UNPARSED_BODY) {
      raw.destroy();
      throw new PayloadTooLargeException(messages.BODY_TOO_LARGE(MAX_UNPARSED_BODY));
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The most bytes of a body no parser read that are taken into memory to forward it or to check its
 * signature: what Nest's body parsers accept by default (100 KiB), ten times over.
 */
export const MAX_UNPARSED_BODY = 1024 * 1024;

/** Whether a request came from a follower (it is then never forwarded again). */
export function wasForwarded(exchange: HttpExchange): boolean {
  return exchange.raw.headers[FORWARDED_BY_HEADER] !== undefined;
}

/**
 * On the leader, with a `secret`: refuses (403) a forwarded request whose signature does not
 * match. Requests without the forwarded mark are clients' own and pass.
 */
export async function checkSignature(
  exchange: HttpExchange,
  forwarding: ResolvedForwarding,
): Promise<void> {
  if (!forwarding.secret || !wasForwarded(exchange)) return;
  const body = await exchange.body();
  const header = exchange.raw.headers[SIGNATURE_HEADER];
  const signed = { method: exchange.method, url: exchange.url, body: body ?? Buffer.alloc(0) };
  if (body === undefined || !verifySignature(forwarding.secret, signed, header)) {
    throw new ForbiddenException(messages.BAD_SIGNATURE);
  }
}

/** What a follower needs to forward a request of one election. */
export interface ForwardTarget {
  readonly election: string;
  readonly elector: LeaderElector;
  readonly forwarding: ResolvedForwarding;
  /** Called once per refused address (outside the allowed ranges). */
  readonly onNotAllowed: (address: string) => void;
}

/**
 * Forwards the request to the leader once and relays its answer (`answered`, or `retried`), says
 * that this replica leads now (`leading`: the caller runs the request here), or says why not:
 * `no-leader`, `not-allowed`, `unreachable`, `refused` (nothing ran: the caller
 * answers 503), `timeout` or `failed` (it may have run: {@link mayHaveRun}). A not-leader 503 of
 * the leader (refused before its handler ran) is sent once more, to the leader then known; nothing
 * else is ever sent twice.
 */
export async function forwardRequest(
  exchange: HttpExchange,
  target: ForwardTarget,
): Promise<ForwardResult> {
  const body = await exchange.body();
  if (body === undefined) throw new InternalServerErrorException(messages.NO_RAW_BODY);
  const headers = forwardedHeaders(
    exchange.raw.headers,
    {
      address: exchange.raw.socket?.remoteAddress,
      protocol: (exchange.raw.socket as { encrypted?: boolean } | undefined)?.encrypted
        ? 'https'
        : 'http',
      host: exchange.raw.headers.host,
    },
    target.elector.identity,
    body.length,
  );
  delete headers[SIGNATURE_HEADER];
  const { secret, timeout } = target.forwarding;
  if (secret) {
    headers[SIGNATURE_HEADER] = signRequest(secret, { ...exchange, body });
  }
  let refusedBy: string | null | undefined;
  for (const attempt of ['answered', 'retried'] as const) {
    // After a refusal: the leader that refused is stepping down; the retry goes to the next one.
    // Without a leader (a release, a replica that has not read the Lease yet): wait for one.
    // Either wait ends after `timeout`, or when this replica leads: it then runs the request.
    if (refusedBy !== undefined || target.elector.getLeader() === null) {
      await nextLeader(target.elector, refusedBy ?? null, timeout);
      if (target.elector.isLeader()) return 'leading';
    }
    refusedBy = target.elector.getLeader();
    const address = target.elector.leaderAddress();
    if (!address) return 'no-leader';
    if (!target.forwarding.allowed.allows(address.ip)) {
      target.onNotAllowed(address.ip);
      return 'not-allowed';
    }
    const outcome: LeaderOutcome = await sendToLeader({
      address,
      method: exchange.method,
      url: exchange.url,
      headers,
      body,
      timeout,
    });
    if (outcome.kind === 'refused') continue;
    if (outcome.kind === 'answered') {
      relay(exchange, outcome.response);
      return attempt;
    }
    return outcome.kind;
  }
  return 'refused';
}

/**
 * Resolves once the elector knows a leader other than `refusedBy` (a handover's release and
 * acquisition, seen through the watch) or leads itself, or after `timeout` ms:
 * whichever comes first.
 */
function nextLeader(
  elector: LeaderElector,
  refusedBy: string | null,
  timeout: number,
): Promise<void> {
  const moved = () => {
    if (elector.isLeader()) return true;
    const leader = elector.getLeader();
    // A leader that advertises no address counts too: it is answered 503 at once.
    return leader !== null && leader !== refusedBy;
  };
  if (moved()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, timeout);
    const unsubscribe = elector.onChange(() => {
      if (moved()) done();
    });
  });
}

/** The answer to a request that may have run on the leader (504 or 502), else undefined. */
export function mayHaveRun(
  result: ForwardResult,
  election: string,
  timeout: number,
): GatewayTimeoutException | BadGatewayException | undefined {
  if (result === 'timeout') {
    return new GatewayTimeoutException(messages.FORWARD_TIMEOUT(election, timeout));
  }
  if (result === 'failed') return new BadGatewayException(messages.FORWARD_FAILED(election));
  return undefined;
}

/**
 * Passes the leader's answer on: status, end-to-end headers (the follower's own dropped, but for a
 * `Connection: close` of its own, see `Election.closesConnections`), body.
 */
function relay(exchange: HttpExchange, answer: IncomingMessage): void {
  exchange.takeOver();
  const { response } = exchange;
  const connection = response.getHeader('connection');
  for (const name of response.getHeaderNames()) response.removeHeader(name);
  const headers = endToEnd(answer.headers) as OutgoingHttpHeaders;
  response.writeHead(
    answer.statusCode ?? 502,
    answer.statusMessage,
    connection === 'close' ? { ...headers, connection } : headers,
  );
  // A break midway leaves the client a cut answer, as the leader's own would.
  pipeline(answer, response).catch(() => response.destroy());
}
