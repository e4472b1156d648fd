import type { Clock } from './clock.js';
import type { ElectorLogger } from './elector-options.js';
import { BEFORE_RELEASE_FAILED, BEFORE_RELEASE_TIMED_OUT } from './elector.messages.js';
import type { FencingToken } from './fencing-token.js';

/** Work that must be done while we still hold the Lease, just before it is released. */
export type BeforeReleaseHook = (token: FencingToken) => Promise<void>;

/**
 * The hooks run before a release (step-down and stop), e.g. emptying the leader's EndpointSlice
 * before the Lease tells the next leader to write it. Each run is bounded by `timeoutMs`: a hook
 * that hangs or fails is logged and the release goes on, so shutdown never waits forever.
 */
export class BeforeReleaseHooks {
  private readonly hooks = new Set<BeforeReleaseHook>();

  /** Whether any hook is registered (none: the release awaits nothing more). */
  get size(): number {
    return this.hooks.size;
  }

  /** Adds a hook; returns the function that removes it. */
  add(hook: BeforeReleaseHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Runs every hook with the releasing term's token; resolves when all ended or after `timeoutMs`. */
  async run(
    token: FencingToken,
    context: { clock: Clock; logger: ElectorLogger | undefined; name: string; timeoutMs: number },
  ): Promise<void> {
    const { clock, logger, name, timeoutMs } = context;
    const all = Promise.all(
      [...this.hooks].map((hook) =>
        Promise.resolve()
          .then(() => hook(token))
          .catch((error: unknown) => logger?.warn(BEFORE_RELEASE_FAILED(name, error))),
      ),
    );
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([all.then(() => false), timedOut]);
    if (timer !== undefined) clock.clearTimeout(timer);
    if (late) logger?.warn(BEFORE_RELEASE_TIMED_OUT(name, timeoutMs));
  }
}
