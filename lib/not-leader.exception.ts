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
