import type { Clock, TimerHandle } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import {
  REQUEST_FAILED,
  REQUEST_FAILED_AGAIN,
  REQUEST_TIMED_OUT,
  REQUESTS_SUCCEED_AGAIN,
} from './elector.messages.js';
import { LockUnavailableError } from './errors.js';
import { lockErrorKind, type ElectionMetrics, type LockOperation } from './metrics.js';

/** What {@link LockRequests} needs from its elector. */
export interface LockRequestsContext {
  /** The election's name, for metrics. */
  readonly name: string;
  /** The lock's description, for the timeout error. */
  readonly description: string;
  readonly clock: Clock;
  readonly requestTimeout: number;
  readonly metrics: Required<ElectionMetrics>;
  /** Requests aborted because the elector stopped are not failures of the API server. */
  readonly isStopped: () => boolean;
}

/**
 * The elector's requests to its lock: a timeout on each, abort of all on stop, and the failure
 * streak that health checks report (how long requests have been failing, and why).
 */
export class LockRequests {
  private readonly inflight = new Set<AbortController>();
  private lastSuccess: number | undefined;
  private streakStart: number | undefined;
  private streakError: unknown;

  constructor(private readonly context: LockRequestsContext) {}

  /** Monotonic time of the last successful request or watch event (a conflict counts: the server answered). */
  get lastSuccessAt(): number | undefined {
    return this.lastSuccess;
  }

  /** Monotonic time since which requests have been failing, or undefined when the last succeeded. */
  get failingSince(): number | undefined {
    return this.streakStart;
  }

  /** The error of the current failure streak, if any. */
  get failure(): unknown {
    return this.streakStart === undefined ? undefined : this.streakError;
  }

  /** Runs one lock request, aborted (and rejected as unavailable) after the request timeout. */
  async run<T>(operation: LockOperation, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { clock, requestTimeout, description } = this.context;
    const controller = new AbortController();
    this.inflight.add(controller);
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => {
        const error = new LockUnavailableError(REQUEST_TIMED_OUT(description, requestTimeout));
        controller.abort(error);
        reject(error);
      }, requestTimeout);
    });
    try {
      const result = await Promise.race([request(controller.signal), timeout]);
      this.markReachable();
      return result;
    } catch (error) {
      if (!this.context.isStopped()) this.failed(operation, error);
      throw error;
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  /** Counts a failed request (or a watch that ended with an error) in metrics and the streak. */
  failed(operation: LockOperation, error: unknown): void {
    const kind = lockErrorKind(error);
    this.context.metrics.apiError(this.context.name, operation, kind);
    // A conflict, a 404 or a 410 is the server answering: it is reachable and working.
    if (kind === 'conflict' || kind === 'not_found' || kind === 'gone') {
      this.markReachable();
    } else {
      this.streakStart ??= this.context.clock.now();
      this.streakError = error;
    }
  }

  /** The API server answered: the failure streak ends. */
  markReachable(): void {
    this.lastSuccess = this.context.clock.now();
    this.streakStart = undefined;
    this.streakError = undefined;
  }

  /** Aborts every request in flight (the elector stopped). */
  abortAll(reason: unknown): void {
    for (const controller of this.inflight) controller.abort(reason);
  }
}

/**
 * Logs the elector's errors once per kind: the first of a series at warn (unavailable) or error
 * level, repeats at debug, and one line when requests succeed again.
 */
export class ErrorLog {
  private lastKey: string | undefined;
  private lastError: unknown;

  constructor(
    private readonly logger: ElectorLogger | undefined,
    private readonly name: string,
    private readonly identity: string,
  ) {}

  /** The last error reported, until {@link clear}. */
  get last(): unknown {
    return this.lastError;
  }

  /** Reports an error met while `context` (e.g. "renewing"). */
  report(context: string, error: unknown): void {
    this.lastError = error;
    const name = error instanceof Error ? error.name : typeof error;
    const key = `${context}:${name}:${error instanceof Error ? error.message : String(error)}`;
    if (key === this.lastKey) {
      this.logger?.debug?.(REQUEST_FAILED_AGAIN(context, this.name, error));
      return;
    }
    this.lastKey = key;
    const message = REQUEST_FAILED(context, this.name, this.identity, error);
    if (error instanceof LockUnavailableError) this.logger?.warn(message);
    else this.logger?.error(message);
  }

  /** Requests succeed again: log it once if errors were reported. */
  clear(): void {
    if (this.lastKey !== undefined) this.logger?.log(REQUESTS_SUCCEED_AGAIN(this.name));
    this.lastKey = undefined;
    this.lastError = undefined;
  }
}
