/** Node's longest timer delay (about 24.8 days); the interval below never has work to do. */
const LONGEST_DELAY = 2 ** 31 - 1;

/**
 * Keeps the Node process alive while elections run, like a listening server does: the engine's
 * own timers are unref'd (they must not hold the process once an election stops, nor a test
 * process), so a worker whose only work is leader-driven would otherwise exit with code 0 as soon
 * as nothing else (an open watch, a server, a cron timer) holds the event loop, for example while
 * the API server is unreachable. One ref'd interval exists while anything holds it, whatever the
 * number of elections, and none once every hold is released.
 */
export class ProcessKeepAlive {
  private count = 0;
  private handle: ReturnType<typeof setInterval> | undefined;

  /** How many holds are taken and not released. */
  get holders(): number {
    return this.count;
  }

  /** Holds the process until the returned function is called (calling it again does nothing). */
  hold(): () => void {
    this.count += 1;
    this.handle ??= setInterval(() => undefined, LONGEST_DELAY);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.count -= 1;
      if (this.count === 0) {
        clearInterval(this.handle);
        this.handle = undefined;
      }
    };
  }
}

/** The process's keep-alive, shared by every election (through {@link SystemClock.keepAlive}). */
export const processKeepAlive = new ProcessKeepAlive();
