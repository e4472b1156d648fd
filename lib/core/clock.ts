import { processKeepAlive } from './keep-alive.js';

/**
 * Time source of the election engine.
 *
 * `now()` is MONOTONIC (milliseconds from an arbitrary origin): every expiry and validity decision is
 * made with it, so a wall-clock step (NTP, manual change) cannot extend leadership. `wallNow()` fills
 * the Lease's informational timestamps, and ends a term early when it passes the term's deadline too:
 * the monotonic clock stops while a machine is suspended, the wall clock does not.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock time, written into `acquireTime` / `renewTime`. */
  wallNow(): Date;
  /** Runs `callback` after `delayMs`; the timer must not keep the process alive. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer from {@link Clock.setTimeout}; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Keeps the process alive until the returned function is called: an election holds it from
   * `start()` until its `stop()` has finished, like a listening server. Optional: a clock without
   * it holds nothing, and the process lives only as long as something else holds it.
   */
  keepAlive?(): () => void;
}

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: true } | object;

/**
 * The process clock: `performance.now()` plus unref'd Node timers, and one ref'd handle shared by
 * every running election ({@link processKeepAlive}).
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  wallNow(): Date {
    return new Date();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }

  keepAlive(): () => void {
    return processKeepAlive.hold();
  }
}

/** The shared {@link SystemClock}, the default clock of `LeaderElector`. */
export const systemClock: Clock = new SystemClock();
