import { ServiceUnavailableException } from '@nestjs/common';
import { printable } from './core/foreign-text.js';
import { NOT_LEADER_RESPONSE } from './leader-election.messages.js';

/**
 * 503 answer of a follower to a `@LeaderOnly()` handler. The body names the election and the
 * current leader (control characters escaped, cut after 253 characters); `LeaderOnlyInterceptor`
 * also sets the `X-Leader` header.
 */
export class NotLeaderException extends ServiceUnavailableException {
  constructor(
    /** Name of the election (`'default'` unless named). */
    readonly election: string,
    /** The current leader's identity as last observed, or null when none is known. */
    readonly leader: string | null,
  ) {
    super({
      statusCode: 503,
      error: 'Service Unavailable',
      message: NOT_LEADER_RESPONSE(election),
      election,
      // Whoever may update the Lease writes this name: escaped and capped for clients and their logs.
      leader: leader === null ? null : printable(leader),
    });
  }
}

/** Each refusal a `@LeaderOnly` gate threw before its method ran, with the method it guards. */
const refusedBeforeRun = new WeakMap<NotLeaderException, object>();

/** Marks `exception` as thrown by the gate of `handler` before the handler ran. */
export function refusedBefore(exception: NotLeaderException, handler: object): NotLeaderException {
  refusedBeforeRun.set(exception, handler);
  return exception;
}

/**
 * Whether `error` is a refusal by the gate of `handler` itself, before it ran (not one thrown by
 * code the handler called): a follower may then send the request once more.
 */
export function wasRefusedBefore(error: unknown, handler: object): boolean {
  return error instanceof NotLeaderException && refusedBeforeRun.get(error) === handler;
}
