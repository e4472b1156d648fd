import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, throwError, type Observable } from 'rxjs';
import {
  DEFAULT_ELECTION,
  LEADER_HEADER,
  LEADER_ONLY_JOB_METADATA,
  LEADER_ONLY_METADATA,
} from './leader-election.constants.js';
import { headerValue } from './core/foreign-text.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';
import { NotLeaderException } from './not-leader.exception.js';

/**
 * Answers followers with 503 (naming the leader in the body and the `X-Leader` header) on
 * `@LeaderOnly()` controller, gateway and microservice handlers. `@LeaderOnly()` applies it; it can
 * also be used directly with `@UseInterceptors(LeaderOnlyInterceptor)` together with `@LeaderOnly()`.
 */
@Injectable()
export class LeaderOnlyInterceptor implements NestInterceptor {
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
    // A job held back (a rollout changing `shares`) runs on a replica this one cannot name.
    const held = registered.holdsBack(job);
    if (held || !elector.isLeader()) {
      elector.recordSkippedWork(job);
      const leader = held ? null : elector.getLeader();
      setLeaderHeader(context, leader);
      throw new NotLeaderException(election, leader);
    }
    return next.handle().pipe(
      catchError((error: unknown) => {
        // Leadership ended between this check and the handler's own gate.
        if (error instanceof NotLeaderException) setLeaderHeader(context, error.leader);
        return throwError(() => error);
      }),
    );
  }
}

function setLeaderHeader(context: ExecutionContext, leader: string | null): void {
  if (context.getType() !== 'http') return;
  const response = context.switchToHttp().getResponse<{
    header?: (name: string, value: string) => unknown;
    setHeader?: (name: string, value: string) => unknown;
  }>();
  // Percent-encoded beyond printable ASCII: a holder name with CR/LF or non-Latin-1 characters
  // would make Node refuse the header (a 500 instead of the 503).
  const value = leader === null ? '' : headerValue(leader);
  if (typeof response?.header === 'function') response.header(LEADER_HEADER, value);
  else if (typeof response?.setHeader === 'function') response.setHeader(LEADER_HEADER, value);
}
