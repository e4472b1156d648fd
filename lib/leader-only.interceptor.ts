import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, from, mergeMap, NEVER, throwError, type Observable } from 'rxjs';
import {
  DEFAULT_ELECTION,
  LEADER_HEADER,
  LEADER_ONLY_FORWARD_METADATA,
  LEADER_ONLY_JOB_METADATA,
  LEADER_ONLY_METADATA,
} from './leader-election.constants.js';
import { headerValue } from './core/foreign-text.js';
import type { LeaderElector } from './core/index.js';
import type { Election } from './election.js';
import { REFUSED_HEADER, REFUSED_NOT_LEADER } from './forwarding/forwarded-headers.js';
import type { ResolvedForwarding } from './forwarding/forwarding-options.js';
import { ADDRESS_NOT_ALLOWED } from './forwarding/forwarding.messages.js';
import {
  checkSignature,
  forwardRequest,
  httpExchange,
  mayHaveRun,
  wasForwarded,
} from './forwarding/forward-request.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';
import { NotLeaderException, wasRefusedBefore } from './not-leader.exception.js';

/**
 * Answers followers with 503 (naming the leader in the body and the `X-Leader` header) on
 * `@LeaderOnly()` controller, gateway and microservice handlers, or, for HTTP handlers that
 * forward (`@LeaderOnly({ forward: true })`, the module's `forwarding`), sends the request to the
 * leader and passes its answer back. `@LeaderOnly()` applies it; it can also be used directly with
 * `@UseInterceptors(LeaderOnlyInterceptor)` together with `@LeaderOnly()`.
 */
@Injectable()
export class LeaderOnlyInterceptor implements NestInterceptor {
  /** Leader addresses refused by the allowed ranges, each logged once. */
  private readonly refusedAddresses = new Set<string>();

  constructor(private readonly registry: LeaderElectionRegistry) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const election: string =
      Reflect.getMetadata(LEADER_ONLY_METADATA, context.getHandler()) ??
      Reflect.getMetadata(LEADER_ONLY_METADATA, context.getClass()) ??
      DEFAULT_ELECTION;
    const job: string =
      Reflect.getMetadata(LEADER_ONLY_JOB_METADATA, context.getHandler()) ??
      `${context.getClass().name}.${context.getHandler().name}`;
    const registered = this.registry.get(election);
    const elector = registered.electorFor(job);
    const forwarding = forwardingOf(context, registered);
    // A job held back (a rollout changing `shares`) runs on a replica this one cannot name.
    const held = registered.holdsBack(job);
    if (held || !elector.isLeader()) {
      elector.recordSkippedWork(job);
      if (registered.closesConnections()) closeConnection(context);
      const leader = held ? null : elector.getLeader();
      // A request a follower forwarded is never forwarded again: loops end here.
      if (forwarding && !held && !wasForwarded(httpExchange(context))) {
        return this.forward(context, registered, elector, forwarding, () =>
          this.run(context, next, registered),
        );
      }
      setLeaderHeader(context, leader, true);
      throw new NotLeaderException(election, leader);
    }
    if (!forwarding?.secret) return this.run(context, next, registered);
    return from(checkSignature(httpExchange(context), forwarding)).pipe(
      mergeMap(() => this.run(context, next, registered)),
    );
  }

  /** Runs the handler; its gate's refusal gets the leader's name (and the refused mark). */
  private run(
    context: ExecutionContext,
    next: CallHandler,
    registered: Election,
  ): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        // Leadership ended between this check and the handler's own gate.
        if (error instanceof NotLeaderException) {
          setLeaderHeader(context, error.leader, wasRefusedBefore(error, context.getHandler()));
          if (registered.closesConnections()) closeConnection(context);
        }
        return throwError(() => error);
      }),
    );
  }

  /**
   * Sends the request to the leader and, once its answer is passed back, never emits (the response
   * is written; Nest must not write another). Answers 503 when it could not be sent, 504 or 502
   * when it may have run; runs it here when this replica came to lead meanwhile.
   */
  private forward(
    context: ExecutionContext,
    registered: Election,
    elector: LeaderElector,
    forwarding: ResolvedForwarding,
    runHere: () => Observable<unknown>,
  ): Observable<unknown> {
    const election = registered.name;
    const target = {
      election,
      elector,
      forwarding,
      onNotAllowed: (address: string) => {
        if (this.refusedAddresses.has(address)) return;
        this.refusedAddresses.add(address);
        registered.logger?.warn(ADDRESS_NOT_ALLOWED(election, elector.getLeader(), address));
      },
    };
    return from(forwardRequest(httpExchange(context), target)).pipe(
      mergeMap((result) => {
        elector.countForwarded(result);
        if (result === 'answered' || result === 'retried') return NEVER;
        // This replica came to lead while it waited for a leader: the request runs here.
        if (result === 'leading') {
          keepConnection(context);
          return runHere();
        }
        const failure = mayHaveRun(result, election, forwarding.timeout);
        if (failure) return throwError(() => failure);
        const leader = elector.getLeader();
        setLeaderHeader(context, leader, true);
        return throwError(() => new NotLeaderException(election, leader));
      }),
    );
  }
}

/** The election's forwarding, when this HTTP handler forwards (its own option, else the election's). */
function forwardingOf(
  context: ExecutionContext,
  registered: Election,
): ResolvedForwarding | undefined {
  const forwarding = registered.forwarding;
  if (!forwarding || context.getType() !== 'http') return undefined;
  const own: boolean | undefined =
    Reflect.getMetadata(LEADER_ONLY_FORWARD_METADATA, context.getHandler()) ??
    Reflect.getMetadata(LEADER_ONLY_FORWARD_METADATA, context.getClass());
  return (own ?? forwarding.allHandlers) ? forwarding : undefined;
}

/**
 * Marks the answer `Connection: close` (on the Node response, under Express and Fastify alike): the
 * server closes the connection after it, and a keep-alive client connects again.
 */
function closeConnection(context: ExecutionContext): void {
  if (context.getType() !== 'http') return;
  const { raw, response } = httpExchange(context);
  // HTTP/2 has no Connection header (Node warns and drops it): its clients keep the connection.
  if (raw.httpVersionMajor >= 2 || response.headersSent) return;
  response.setHeader('Connection', 'close');
}

/** Undoes {@link closeConnection}: this replica came to lead and runs the request itself. */
function keepConnection(context: ExecutionContext): void {
  const { response } = httpExchange(context);
  if (!response.headersSent) response.removeHeader('Connection');
}

/**
 * Names the leader in the `X-Leader` header; with `refused`, also marks the answer as refused
 * before the handler ran (`X-Leader-Refused: not-leader`), which a forwarding follower may retry.
 */
function setLeaderHeader(context: ExecutionContext, leader: string | null, refused: boolean): void {
  if (context.getType() !== 'http') return;
  const response = context.switchToHttp().getResponse<{
    header?: (name: string, value: string) => unknown;
    setHeader?: (name: string, value: string) => unknown;
  }>();
  // Percent-encoded beyond printable ASCII: a holder name with CR/LF or non-Latin-1 characters
  // would make Node refuse the header (a 500 instead of the 503).
  const headers: [string, string][] = [[LEADER_HEADER, leader === null ? '' : headerValue(leader)]];
  if (refused) headers.push([REFUSED_HEADER, REFUSED_NOT_LEADER]);
  for (const [name, value] of headers) {
    if (typeof response?.header === 'function') response.header(name, value);
    else if (typeof response?.setHeader === 'function') response.setHeader(name, value);
  }
}
