// One rolling update, the way a Deployment with maxSurge 1 and maxUnavailable 0 does it, shared by
// the benchmark (bench/scenarios/rollout.ts), the chaos suite (test/chaos/faults/rollout-faults.ts) and the demo
// (scripts/demo/demo.ts). Each caller brings its own replicas and its own ways to start one, to see
// that one follows and to stop one; the order of the steps is the same for all three.

/** How one caller starts, watches and stops its replicas. */
export interface RollingUpdatePlan<R> {
  /** The replicas to replace, one per step; the first still running goes when the leader is new. */
  readonly old: readonly R[];
  /** Starts the replacement of step `step` (0-based). */
  start(step: number): Promise<R> | R;
  /**
   * Resolves once `fresh` follows the current leader (it names it, as the leader does), with that
   * leader, or undefined when the leader is none of the caller's replicas.
   */
  follows(fresh: R): Promise<R | undefined>;
  /**
   * How long a new replica follows before an old one is stopped (ms): a Deployment stops an old pod
   * only once the new one is Ready, which a readiness probe takes at least a retry period to say.
   */
  readonly readyMs: number;
  /** Called once the victim is chosen, before it is stopped (the demo prints the step). */
  beforeStop?(step: RollingUpdateStep<R>): void;
  /** Stops `victim` gracefully (SIGTERM) and resolves once it has exited. */
  stop(victim: R): Promise<void>;
}

/** One step of a rolling update, as it happened. */
export interface RollingUpdateStep<R> {
  /** The new replica started in this step. */
  readonly fresh: R;
  /** The leader `fresh` followed, if it is one of the caller's replicas. */
  readonly leader: R | undefined;
  /** The old replica stopped in this step: the leader whenever an old replica leads (the worst case). */
  readonly victim: R;
  readonly victimWasLeader: boolean;
  /** Date.now() when `fresh` was started, when it followed, when the victim was signalled and exited. */
  readonly startedAt: number;
  readonly followedAt: number;
  readonly signalAt: number;
  exitedAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Replaces every replica of `plan.old` once: each step starts a new replica, waits until it follows
 * and `readyMs` more, then stops an old replica (the leader if an old one leads) and waits for it to
 * exit. Returns the steps in order.
 */
export async function rollingUpdate<R>(
  plan: RollingUpdatePlan<R>,
): Promise<RollingUpdateStep<R>[]> {
  const steps: RollingUpdateStep<R>[] = [];
  const stopped = new Set<R>();
  for (let step = 0; step < plan.old.length; step++) {
    const startedAt = Date.now();
    const fresh = await plan.start(step);
    const leader = await plan.follows(fresh);
    const followedAt = Date.now();
    await sleep(plan.readyMs);
    const remaining = plan.old.filter((r) => !stopped.has(r));
    const victimWasLeader = leader !== undefined && remaining.includes(leader);
    const victim = victimWasLeader ? leader : remaining[0]!;
    const record = {
      fresh,
      leader,
      victim,
      victimWasLeader,
      startedAt,
      followedAt,
      signalAt: Date.now(),
      exitedAt: 0,
    };
    plan.beforeStop?.(record);
    stopped.add(victim);
    await plan.stop(victim);
    record.exitedAt = Date.now();
    steps.push(record);
  }
  return steps;
}
