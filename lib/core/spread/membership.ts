import type { Clock, TimerHandle } from '../clock.js';
import type { MembershipStatus } from '../election-engine.js';
import type { ElectorLogger } from '../elector-options.js';
import { METRICS_HOOK_THREW } from '../elector.messages.js';
import { LockConflictError } from '../errors.js';
import type { LeaseRecord, MemberEntry } from '../lease-record.js';
import { LeaseWatch } from '../lease-watch.js';
import type { LeaseLock } from '../lock.js';
import { ErrorLog, LockRequests } from '../lock-requests.js';
import { guardMetrics, type ElectionMetrics } from '../metrics.js';
import { CLOSING_LOCK_FAILED } from '../elector.messages.js';
import { MemberEntries } from './member-entries.js';

/** What a {@link Membership} needs. */
export interface MembershipOptions {
  /** The membership Lease (see `membersLeaseName`); its identity is this replica's. */
  readonly lock: LeaseLock;
  /** The membership Lease's name, for logs, metrics and status. Default: the lock's description. */
  readonly name?: string;
  readonly clock: Clock;
  /** How often this replica renews its entry, ms. */
  readonly interval: number;
  /**
   * How long an entry counts without a renewal, ms (several intervals: a missed write is no exit);
   * published in this replica's entry: readers count it from when they saw the entry change.
   */
  readonly ttl: number;
  /** This replica's share count, published in its entry (replicas hand a share only to those that have it). */
  readonly shares?: number;
  /** Timeout of each request, ms. */
  readonly requestTimeout: number;
  /** Base of the watch's re-open backoff, ms (the electors' retry period). Default `requestTimeout`. */
  readonly retryPeriod?: number;
  readonly random: () => number;
  readonly logger?: ElectorLogger;
  /** Where failed requests are counted (`apiError`, under {@link name}), as the electors' are. */
  readonly metrics?: ElectionMetrics;
}

/** The share counts published in `members` by others than `self`. */
function countsOf(members: Record<string, MemberEntry>, self: string): Set<number> {
  const counts = Object.entries(members).flatMap(([identity, { shares }]) =>
    identity === self || shares === undefined ? [] : [shares],
  );
  return new Set(counts);
}

/** Conflicting writes in a row before a renewal waits for the next interval. */
const MAX_CONFLICTS = 3;

/**
 * Who is alive among the replicas of an election spread over shares. A replica that leads no share
 * is invisible on the shares' Leases, so each replica keeps an entry in one membership Lease (its
 * identity, ttl and share count), renewed every `interval` with a conditional write, and watches
 * that Lease. An entry counts for its ttl after this replica saw it change (no wall clocks are
 * compared). A write drops the entries that have expired or are invalid (replicas that are gone,
 * forged text); a replica that stops removes its own. Only the balance of shares depends on it, never exclusivity:
 * each share is a Lease with its own election.
 *
 * Its requests and watch are the electors' ({@link LockRequests}, {@link LeaseWatch}): timeouts on
 * the injected clock, failures counted in metrics and in {@link status}, one log line per kind of
 * error, a watch resumed from the last version it delivered and re-opened when it falls silent.
 */
export class Membership {
  private record: LeaseRecord | null = null;
  private readonly seen: MemberEntries;
  private readonly name: string;
  private readonly requests: LockRequests;
  private readonly errors: ErrorLog;
  private readonly watch: LeaseWatch;
  private timer: TimerHandle | undefined;
  private running = false;
  /** Set once {@link stop} has finished: requests aborted then are no failures. */
  private stopped = false;
  /** Releases the hold on the process (see `Clock.keepAlive`) taken while it runs. */
  private releaseProcess: (() => void) | undefined;
  private readonly listeners = new Set<() => void>();
  private lastMembers = '';
  private joined: ReadonlySet<number> | undefined;

  constructor(private readonly options: MembershipOptions) {
    const { lock, clock, requestTimeout, logger } = options;
    const name = (this.name = options.name ?? lock.description);
    this.seen = new MemberEntries(lock.identity, options.ttl, clock);
    const metrics = guardMetrics(options.metrics, (hook, error) =>
      logger?.warn(METRICS_HOOK_THREW(name, hook, error)),
    );
    const context = { name, description: lock.description, clock, requestTimeout, metrics };
    this.requests = new LockRequests({ ...context, isStopped: () => this.stopped });
    this.errors = new ErrorLog(logger, name, lock.identity);
    this.watch = new LeaseWatch({
      ...context,
      lock,
      logger,
      random: options.random,
      retryPeriod: options.retryPeriod ?? requestTimeout,
      isRunning: () => this.running,
      onReachable: () => this.requests.markReachable(),
      onEvent: (event) => {
        if (event.type !== 'BOOKMARK') this.observe(event.type === 'DELETED' ? null : event.record);
      },
      onFailed: (error) => this.requests.failed('watch', error),
      onGone: () => void this.readAgain(),
    });
  }

  get identity(): string {
    return this.options.lock.identity;
  }

  /** Live members, in identity order, this replica included while it runs. */
  members(): string[] {
    const live = [...this.entries().keys()];
    if (this.running) live.push(this.identity);
    return [...new Set(live)].sort();
  }

  /**
   * The other members' live entries as last seen, by identity (see {@link MemberEntries}). An
   * entry's `until` changes each time its member renews, which shows that it is running.
   */
  entries(): Map<string, MemberEntry> {
    return this.seen.live();
  }

  /**
   * The share counts the other members published when this replica's entry was first written (since
   * its last start), or undefined until then. Writes are conditional, so of two replicas the one
   * whose entry came second saw the other's: this is what it saw (see `ShareCountGate`).
   */
  joinedAmong(): ReadonlySet<number> | undefined {
    return this.joined;
  }

  /** Whether the membership's requests (writes, its watch) are failing now: its view may be stale. */
  isFailing(): boolean {
    return this.requests.failingSince !== undefined;
  }

  /** A snapshot for health checks: the members, and how long its requests have been failing. */
  status(): MembershipStatus {
    const failingSince = this.requests.failingSince;
    return {
      lease: this.name,
      members: this.members(),
      failingForMs:
        failingSince === undefined ? undefined : this.options.clock.now() - failingSince,
      lastError: this.errors.last ?? this.requests.failure,
    };
  }

  /** Calls `listener` when the set of live members may have changed. Returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.joined = undefined;
    this.releaseProcess = this.options.clock.keepAlive?.();
    this.watch.ensureOpen();
    void this.renew();
  }

  /**
   * Stops renewing, removes this replica's entry (best effort, one request), then closes the lock
   * (its kept connections) and lets the process go.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.watch.close();
    await this.write(false).catch(() => undefined);
    this.stopped = true;
    try {
      this.options.lock.close?.();
    } catch (error) {
      this.options.logger?.warn(CLOSING_LOCK_FAILED(this.options.lock.description, error));
    }
    this.releaseProcess?.();
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = this.options.clock.setTimeout(() => void this.renew(), delay);
  }

  private async renew(): Promise<void> {
    this.timer = undefined;
    try {
      await this.write(true);
      this.errors.clear();
      this.schedule(this.options.interval * (0.9 + 0.2 * this.options.random()));
    } catch (error) {
      this.errors.report('membership renewing', error);
      this.schedule(Math.min(this.options.interval, this.options.requestTimeout * 2));
    }
  }

  /** The watch's version was too old (410): read the Lease, then watch again from it. */
  private async readAgain(): Promise<void> {
    try {
      const record = await this.requests.run('get', (signal) => this.options.lock.get({ signal }));
      this.observe(record);
    } catch (error) {
      if (this.running) this.errors.report('membership reading', error);
    }
    this.watch.ensureOpen();
  }

  /** Writes this replica's entry (or removes it), based on the latest record; retries conflicts. */
  private async write(present: boolean): Promise<void> {
    const { lock, clock, ttl } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      const base =
        this.record ?? (await this.requests.run('get', (signal) => lock.get({ signal })));
      this.seen.observe(base?.members);
      const now = clock.wallNow();
      // The others' live entries as they are; expired and invalid ones are dropped.
      const members: Record<string, MemberEntry> = Object.fromEntries(this.seen.live());
      if (present) members[this.identity] = this.ownEntry(now.getTime());
      const spec = {
        holderIdentity: '',
        leaseDurationSeconds: Math.ceil(ttl / 1000),
        acquireTime: base?.acquireTime ?? now,
        renewTime: now,
        leaseTransitions: base?.leaseTransitions ?? 0,
        members,
      };
      try {
        const written = base
          ? await this.requests.run('update', (signal) =>
              lock.update(spec, base.resourceVersion, { signal }),
            )
          : await this.requests.run('create', (signal) => lock.create(spec, { signal }));
        if (present && !this.joined) this.joined = countsOf(members, this.identity);
        this.observe(written);
        return;
      } catch (error) {
        if (!(error instanceof LockConflictError) || attempt >= MAX_CONFLICTS) throw error;
        // A renew that conflicted with our own removal at stop() must not add the entry back.
        if (present && !this.running) return;
        this.record = null; // read again
      }
    }
  }

  private ownEntry(now: number): MemberEntry {
    const { ttl, shares } = this.options;
    return { until: now + ttl, ttl, ...(shares === undefined ? {} : { shares }) };
  }

  private observe(record: LeaseRecord | null): void {
    // The latest record heard of, from a write's answer or the watch (a watch event that arrives
    // after our own write's answer may be older: the next write then conflicts and reads again).
    this.record = record;
    this.seen.observe(record?.members);
    const members = this.members().join('\n');
    if (members === this.lastMembers) return;
    this.lastMembers = members;
    for (const listener of this.listeners) listener();
  }
}
