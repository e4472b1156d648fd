// Replicas running one `once` job on the in-memory Lease with the fake clock: each ticks the job at
// every instant by its own wall clock (which may be off), as the cron library does, and records its
// runs and outcomes.
import type { Clock } from '../../../lib/core/clock.js';
import { LeaderElector, type LeaderElectorOptions } from '../../../lib/core/index.js';
import type { CatchUpPolicy } from '../../../lib/core/fires/catch-up-plan.js';
import {
  LEDGER_SIZE_LIMIT,
  ledgerSize,
  type FireLedger,
} from '../../../lib/core/fires/fire-ledger.js';
import type { FireSchedule } from '../../../lib/core/fires/fire-schedule.js';
import { OnceJob, type FireOutcome } from '../../../lib/core/fires/once-job.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { LockRejectedError, LockUnavailableError } from '../../../lib/core/errors.js';
import type { LeaseRecord, LeaseSpec } from '../../../lib/core/lease-record.js';
import type { LockCallOptions, LockWatch, LockWatchHandlers } from '../../../lib/core/lock.js';

/**
 * An in-memory lock that can lose the answer of its next claim (the write lands, the reply does
 * not), deliver a stale record on its open watch ({@link echo}), and refuse, as the API server
 * refuses an annotation over its limit, a write whose ledger exceeds `LEDGER_SIZE_LIMIT`. A
 * `legacy` lock writes as a version without `once` does: it keeps the ledger as it found it.
 */
export class ClaimAnswerLosingLock extends InMemoryLeaseLock {
  loseNextClaimAnswer = false;
  /** Writes refused for their ledger's size. */
  refused = 0;
  private handlers: LockWatchHandlers | undefined;

  constructor(
    store: InMemoryLeaseStore,
    identity: string,
    name: string,
    private readonly legacy = false,
    private readonly written: (record: LeaseRecord) => void = () => undefined,
  ) {
    super(store, identity, name);
  }

  override async create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    const record = await super.create(this.checked(spec), options);
    this.written(record);
    return record;
  }

  override async update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    const before = this.store.current()?.fires;
    const written = await super.update(this.checked(spec), resourceVersion, options);
    this.written(written);
    const claimed = Object.entries(spec.fires?.jobs ?? {}).some(
      ([job, entry]) => entry.state === 'claimed' && before?.jobs[job]?.at !== entry.at,
    );
    if (this.loseNextClaimAnswer && claimed && !this.legacy) {
      this.loseNextClaimAnswer = false;
      throw new LockUnavailableError('connection reset (the claim was applied, its answer lost)');
    }
    return written;
  }

  override watch(handlers: LockWatchHandlers, options?: { resourceVersion?: string }): LockWatch {
    this.handlers = handlers;
    return super.watch(handlers, options);
  }

  /** Delivers `record` on the open watch now: an event that arrives after newer writes. */
  echo(record: LeaseRecord): void {
    this.handlers?.onEvent({ type: 'MODIFIED', record });
  }

  private checked(spec: LeaseSpec): LeaseSpec {
    if (this.legacy) {
      // Another version's write: our annotation is not its own, it keeps it as found.
      const { fires: _ours, ...rest } = spec;
      const found = this.store.current()?.fires;
      return found ? { ...rest, fires: found } : rest;
    }
    if (spec.fires && ledgerSize(spec.fires) > LEDGER_SIZE_LIMIT) {
      this.refused += 1;
      throw new LockRejectedError('metadata.annotations: Too long (the ledger over its limit)');
    }
    return spec;
  }
}

export const T = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

/** Every `period` ms on the wall clock, in `zone`. */
export function every(period: number, zone = 'UTC', explicitZone = false): FireSchedule {
  return { next: (after) => (Math.floor(after / period) + 1) * period, zone, explicitZone };
}

export interface Run {
  readonly replica: string;
  readonly at: number;
  readonly catchUp: boolean;
  readonly start: number;
  end?: number;
}

export interface ReplicaOptions {
  skew?: number;
  catchUp?: CatchUpPolicy;
  window?: number;
  rerunInterrupted?: boolean;
  /** Without `once`: the tick runs whenever this replica leads (the positive control). */
  plain?: boolean;
  schedule?: FireSchedule;
  job?: string;
  elector?: Partial<LeaderElectorOptions>;
  /** A version without `once`: ticks as `plain` does, keeps the ledger it finds, never stamps it. */
  legacy?: boolean;
}

export class OnceReplicas {
  readonly clock = new FakeClock({ wallStart: new Date('2026-12-07T10:00:00.200Z') });
  readonly store = new InMemoryLeaseStore();
  readonly runs: Run[] = [];
  readonly outcomes: (FireOutcome & { replica: string })[] = [];
  readonly replicas = new Map<string, Replica>();
  /** The ledger of every successful write, in order (null: the write carried none). */
  readonly ledgers: (FireLedger | null)[] = [];
  /** How long each run takes, ms. */
  runFor = 100;

  skewed(skew: number): Clock {
    const clock = this.clock;
    return {
      now: () => clock.now(),
      wallNow: () => new Date(clock.wallNow().getTime() + skew),
      setTimeout: (callback, delay) => clock.setTimeout(callback, delay),
      clearTimeout: (handle) => clock.clearTimeout(handle),
    };
  }

  start(id: string, options: ReplicaOptions = {}): Replica {
    const replica = new Replica(this, id, options);
    this.replicas.set(id, replica);
    replica.start();
    return replica;
  }

  /** Fires run more than once, by instant. */
  doubles(): number[] {
    const counts = new Map<number, number>();
    for (const run of this.runs) counts.set(run.at, (counts.get(run.at) ?? 0) + 1);
    return [...counts].filter(([, count]) => count > 1).map(([at]) => at);
  }

  /** Instants in [from, to] that neither ran nor got an outcome other than already-ran. */
  unaccounted(schedule: FireSchedule, from: number, to: number): number[] {
    const seen = new Set<number>([
      ...this.runs.map((run) => run.at),
      ...this.outcomes
        .filter((outcome) => outcome.result !== 'already-ran')
        .map((outcome) => outcome.scheduledAt.getTime()),
    ]);
    const missing: number[] = [];
    for (let at = schedule.next(from - 1); at !== undefined && at <= to; at = schedule.next(at)) {
      if (!seen.has(at)) missing.push(at);
    }
    return missing;
  }

  /** Writes (indexes in {@link ledgers}) whose ledger dropped `job`'s entry or moved it back. */
  regressions(job = 'Jobs.tick'): number[] {
    let latest = -1;
    const found: number[] = [];
    this.ledgers.forEach((ledger, index) => {
      const at = ledger?.jobs[job]?.at ?? -1;
      if (at < latest) found.push(index);
      else latest = at;
    });
    return found;
  }

  results(result: FireOutcome['result']): number[] {
    return this.outcomes.filter((o) => o.result === result).map((o) => o.scheduledAt.getTime());
  }

  async stopAll(): Promise<void> {
    for (const replica of this.replicas.values()) await replica.stop();
  }
}

export class Replica {
  readonly elector: LeaderElector;
  readonly job: OnceJob;
  readonly clock: Clock;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private stopped = false;
  readonly schedule: FireSchedule;
  readonly lock: ClaimAnswerLosingLock;

  constructor(
    private readonly set: OnceReplicas,
    readonly id: string,
    readonly options: ReplicaOptions,
  ) {
    this.clock = options.skew ? set.skewed(options.skew) : set.clock;
    this.schedule = options.schedule ?? every(1_000);
    this.lock = new ClaimAnswerLosingLock(set.store, id, 'jobs', options.legacy, (record) =>
      set.ledgers.push(record.fires ?? null),
    );
    this.elector = new LeaderElector({
      ...T,
      lock: this.lock,
      leaseName: 'jobs',
      clock: this.clock,
      random: () => 0.5,
      ...options.elector,
    });
    this.job = new OnceJob(
      {
        election: 'default',
        job: options.job ?? 'Jobs.tick',
        schedule: this.schedule,
        catchUp: options.catchUp ?? 'latest',
        catchUpWindow: options.window ?? 300_000,
        rerunInterrupted: options.rerunInterrupted ?? false,
      },
      {
        clock: this.clock,
        elector: () => this.elector,
        run: (fire) => this.run(fire.scheduledAt.getTime(), fire.catchUp),
        report: (outcome) => set.outcomes.push({ ...outcome, replica: id }),
      },
    );
    this.elector.onChange((event) => {
      if (event.isLeader && !this.plain) void this.job.catchUp();
    });
  }

  private run(at: number, catchUp: boolean): Promise<void> {
    const run: Run = { replica: this.id, at, catchUp, start: this.set.clock.now() };
    this.set.runs.push(run);
    return new Promise((resolve) =>
      this.set.clock.setTimeout(() => {
        run.end = this.set.clock.now();
        resolve();
      }, this.set.runFor),
    );
  }

  start(): void {
    this.elector.start();
    this.arm();
  }

  /** The cron timer: the next instant by this replica's wall clock. */
  private arm(): void {
    const now = this.clock.wallNow().getTime();
    const next = this.schedule.next(now)!;
    this.timer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      this.arm();
      if (this.plain) void this.plainTick(now);
      else void this.job.tick();
    }, next - now);
  }

  /** `@LeaderOnly()` without once: runs the instant it believes is due whenever it leads. */
  private async plainTick(_armedAt: number): Promise<void> {
    const work = this.elector.beginLeaderWork('Jobs.tick');
    if (!work) return;
    const now = this.clock.wallNow().getTime();
    const at = Math.floor((now + 10) / 1_000) * 1_000;
    try {
      await this.run(at, false);
    } finally {
      work.end();
    }
  }

  /** Without `once`: a `plain` or `legacy` replica. */
  get plain(): boolean {
    return !!this.options.plain || !!this.options.legacy;
  }

  /** The cron timer stops (the job stopped through the scheduler); the elector goes on. */
  stopTicking(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
  }

  /** A crash: cut off from the API server, its timers never fire again. */
  crash(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.set.store.partition(this.id);
    void this.elector.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.elector.stop();
  }
}
