import type { Clock } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import type { LeaderChangeEvent, LeaderChangeReason } from './elector-status.js';
import { LISTENER_THREW } from './elector.messages.js';
import type { FencingToken } from './fencing-token.js';
import type { ElectionMetrics } from './metrics.js';

/** What {@link ChangeEvents} needs from its elector. */
export interface ChangeEventsContext {
  readonly name: string;
  readonly identity: string;
  readonly clock: Clock;
  readonly metrics: Required<ElectionMetrics>;
  readonly logger: ElectorLogger | undefined;
}

/**
 * An elector's change events: one per real change of (who leads, whether we lead), delivered in
 * order to every listener; a listener that throws is logged and the others still run.
 */
export class ChangeEvents {
  private readonly listeners = new Set<(event: LeaderChangeEvent) => void>();
  private last: LeaderChangeEvent | undefined;

  constructor(private readonly context: ChangeEventsContext) {}

  /** The last event emitted (the current state), if any. */
  get current(): LeaderChangeEvent | undefined {
    return this.last;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (event: LeaderChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Removes every listener (the elector stopped). */
  clear(): void {
    this.listeners.clear();
  }

  /** Emits an event unless (isLeader, leader) equals the last one; counts leaderOn/leaderOff. */
  emitIfChanged(
    isLeader: boolean,
    leader: string | null,
    fencingToken: FencingToken | null,
    term: number | null,
    reason: LeaderChangeReason,
  ): void {
    const { name, identity, clock, metrics, logger } = this.context;
    const previous = this.last;
    if (previous && previous.isLeader === isLeader && previous.leader === leader) return;
    if ((previous?.isLeader ?? false) !== isLeader) {
      if (isLeader) metrics.leaderOn(name);
      else metrics.leaderOff(name);
    }
    const event: LeaderChangeEvent = {
      lease: name,
      identity,
      isLeader,
      leader,
      previousLeader: previous?.leader ?? null,
      fencingToken,
      term,
      reason,
      at: clock.wallNow(),
    };
    this.last = event;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        logger?.error(LISTENER_THREW(name, error));
      }
    }
  }
}
