import type { LeaderElector } from '../../lib/core/leader-elector.js';
import type { LeaseRecord } from '../../lib/core/lease-record.js';
import { membersLeaseName, shareLeaseName } from '../../lib/core/spread/shares.js';
import type { Cluster } from './cluster.js';
import { ElectorReplica, MAIN_LEASE } from './elector-replica.js';
import type { PlannedFault } from './faults.js';
import type { InjectedError, Link } from './network.js';
import type { Random } from './random.js';
import type { Scenario } from './scenario.js';
import type { Replica, SimContext } from './sim-context.js';
import type { SimLock } from './sim-lock.js';
import { SpreadReplica, SPREAD_LEASE } from './spread-replica.js';

/** Counters of a {@link Link} that a fault raises while it lasts. */
type LinkCounter =
  | 'dropUp'
  | 'dropDown'
  | 'slowRequests'
  | 'slowAnswers'
  | 'lostAnswers'
  | 'watchDelay'
  | 'unavailable';

/** Joins stop at this many running replicas. */
const MAX_REPLICAS = 8;

/**
 * Applies the fault schedule: each fault at its time, on a target chosen then (often the leader or
 * the holder of the moment), undone after its duration. Counts injections per kind (and variant),
 * and tells the checker when the last fault has healed.
 */
export class FaultInjector {
  /** Injections per fault kind and variant, e.g. `partition (one way: answers)`. */
  readonly counts = new Map<string, number>();
  private active = 0;
  private pending = 0;

  constructor(
    private readonly context: SimContext,
    private readonly cluster: Cluster,
    private readonly scenario: Scenario,
    private readonly random: Random,
  ) {}

  /** Schedules every planned fault. */
  schedule(plan: readonly PlannedFault[]): void {
    this.pending = plan.length;
    if (plan.length === 0) this.context.checker.healed(this.context.scheduler.now);
    for (const fault of plan) {
      this.context.scheduler.schedule(fault.at, undefined, 'world', () => {
        this.pending -= 1;
        this.active += 1;
        void this.inject(fault).finally(() => {
          this.active -= 1;
          if (this.active === 0 && this.pending === 0)
            this.context.checker.healed(this.context.scheduler.now);
        });
      });
    }
  }

  private async inject(fault: PlannedFault): Promise<void> {
    const { kind, duration } = fault;
    switch (kind) {
      case 'pause':
        return this.onTarget(
          kind,
          {},
          async (target) => {
            this.context.scheduler.pause(target.host.process);
            await this.sleep(duration);
            const runs = this.context.scheduler.resume(target.host.process);
            this.note(target, runs ? 'resumed' : 'one pause ended, another still holds it');
          },
          duration,
        );
      case 'partition': {
        const refuse = this.random.chance(0.4);
        return this.onTarget(
          `${kind} (${refuse ? 'refused' : 'both ways'})`,
          {},
          async (target) => {
            if (refuse) this.context.network.refuseConnections(target.host);
            else this.raise(target.host.link, ['dropUp', 'dropDown'], 1);
            await this.sleep(duration);
            if (refuse) target.host.link.refuse -= 1;
            else this.raise(target.host.link, ['dropUp', 'dropDown'], -1);
            this.note(target, 'reconnected');
          },
          duration,
        );
      }
      case 'one-way-partition': {
        const counter = this.random.chance(0.5) ? 'dropUp' : 'dropDown';
        const variant = counter === 'dropUp' ? 'requests lost' : 'answers and events lost';
        return this.linkFault(`${kind} (${variant})`, [counter], duration);
      }
      case 'watch-black-hole':
        return this.onTarget(kind, {}, async (target) =>
          this.context.network.blackHoleWatches(target.host),
        );
      case 'watch-delay':
        return this.linkFault(kind, ['watchDelay'], duration);
      case 'watch-burst': {
        const failing = this.random.chance(0.5);
        const variant = failing ? 'requests answered 503 meanwhile' : 'requests served';
        return this.onTarget(
          `${kind} (${variant})`,
          {},
          async (target) => {
            const link = target.host.link;
            link.watchBurst += 1;
            if (failing) link.unavailable += 1;
            await this.sleep(duration);
            link.watchBurst -= 1;
            if (failing) link.unavailable -= 1;
            this.context.network.releaseBurst(target.host);
            this.note(target, 'watch burst delivered');
          },
          duration,
        );
      }
      case 'watch-close': {
        const how = this.random.pick(['normal', 'gone', 'error'] as const);
        return this.onTarget(`${kind} (${how})`, {}, async (target) =>
          this.context.network.closeWatches(target.host, how),
        );
      }
      case 'compaction':
        return this.compaction();
      case 'delete':
        return this.deleteLease();
      case 'edit':
        return this.editLease();
      case 'slow-requests':
        return this.linkFault(kind, ['slowRequests'], duration);
      case 'slow-answers':
        return this.linkFault(kind, ['slowAnswers'], duration);
      case 'lost-answers':
        return this.linkFault(kind, ['lostAnswers'], duration);
      case 'api-errors':
        return this.apiErrors(duration);
      case 'stop-restart':
      case 'kill-restart':
        return this.restart(kind, duration);
      case 'step-down':
        return this.stepDown();
      case 'confirmed-run':
        return this.confirmedRun();
      case 'join':
        return this.join();
      case 'leave':
        return this.leave();
      case 'rolling-update':
        return this.rollingUpdate(duration);
    }
  }

  /** Runs `apply` on a target, counting and tracing the fault; skipped without a target. */
  private async onTarget(
    label: string,
    options: { callable?: boolean; ours?: boolean },
    apply: (target: Replica) => Promise<void>,
    duration = 0,
  ): Promise<void> {
    const target = this.cluster.target(options);
    if (!target) return this.skip(label);
    this.count(label);
    const lasting = duration > 0 ? ` for ${(duration / 1000).toFixed(1)} s` : '';
    this.context.trace.add('faults', `${label} on ${target.host.name}${lasting}`);
    await apply(target);
  }

  private linkFault(label: string, counters: LinkCounter[], duration: number): Promise<void> {
    return this.onTarget(
      label,
      {},
      async (target) => {
        this.raise(target.host.link, counters, 1);
        await this.sleep(duration);
        this.raise(target.host.link, counters, -1);
        this.note(target, `${label} healed`);
      },
      duration,
    );
  }

  private raise(link: Link, counters: readonly LinkCounter[], by: 1 | -1): void {
    for (const counter of counters) link[counter] += by;
  }

  private apiErrors(duration: number): Promise<void> {
    const code = this.random.pick(['409', '422', '429', '500', '503'] as InjectedError[]);
    return this.onTarget(
      `api-errors (${code})`,
      {},
      async (target) => {
        const errors = target.host.link.errors;
        errors.push(code);
        await this.sleep(duration);
        errors.splice(errors.indexOf(code), 1);
        this.note(target, `api-errors (${code}) healed`);
      },
      duration,
    );
  }

  private async compaction(): Promise<void> {
    const lease = this.context.lease(this.pickLease());
    this.count('compaction');
    this.context.trace.add(
      'faults',
      `compaction of ${lease.name}; watches closed: re-watches get 410`,
    );
    lease.store.compact();
    for (const replica of this.cluster.running) {
      if (this.random.chance(0.6)) this.context.network.closeWatches(replica.host, 'normal');
    }
  }

  private async deleteLease(): Promise<void> {
    const lease = this.context.lease(this.pickLease(0.15));
    if (!lease.current()) return this.skip(`delete (${lease.name} missing)`);
    this.count('delete');
    lease.delete();
    // The ledger of once fires goes with the Lease: at most once holds per ledger (documented).
    this.context.checker.ledgerLost(lease.name);
  }

  /**
   * An operator's edit of an existing record: its duration (never below ours while a client-go
   * peer, which reads it literally, is on the Lease: the README says a leader cut off then cannot
   * react), its transitions, its acquireTime, or another holder. Never an empty holder, which the
   * README documents as a release.
   */
  private async editLease(): Promise<void> {
    const lease = this.context.lease(this.pickLease());
    const record = lease.current();
    if (!record) return this.skip(`edit (${lease.name} missing)`);
    const durations = this.scenario.clientGoPeer ? [15, 20] : [null, 0, -1, 1, 3, 10, 15, 20];
    const field = this.random.pick(['duration', 'transitions', 'acquireTime', 'holder'] as const);
    const edits: Record<typeof field, Partial<Omit<LeaseRecord, 'resourceVersion'>>> = {
      duration: { leaseDurationSeconds: this.random.pick(durations) },
      transitions: {
        leaseTransitions: this.random.pick([0, 1, this.random.int(2, 1000), 2_147_483_647]),
      },
      acquireTime: { acquireTime: new Date(Date.UTC(2026, 0, 1) + this.random.int(0, 3_600_000)) },
      holder: { holderIdentity: 'operator' },
    };
    this.count(`edit (${field})`);
    lease.edit(edits[field]);
  }

  /** Stops (or kills) a replica, and starts its pod again after `duration`. */
  private restart(kind: 'stop-restart' | 'kill-restart', duration: number): Promise<void> {
    const sameIdentity = this.random.chance(0.5);
    const variant = sameIdentity ? 'same identity' : 'new identity';
    const stop = kind === 'stop-restart';
    return this.onTarget(
      `${kind} (${variant})`,
      { callable: stop },
      async (target) => {
        const from = this.context.scheduler.now;
        if (stop) await this.cluster.stop(target);
        else this.cluster.kill(target);
        await this.sleep(Math.max(0, from + duration - this.context.scheduler.now));
        this.cluster.restart(target, sameIdentity);
      },
      duration,
    );
  }

  private stepDown(): Promise<void> {
    const withSuccessor = this.random.chance(0.5);
    return this.onTarget(
      `step-down (${withSuccessor ? 'with' : 'without'} successor)`,
      { callable: true, ours: true },
      async (target) => {
        const elector = this.electorOf(target);
        const others = [...this.cluster.running].filter((r) => r !== target).map((r) => r.identity);
        const successor = withSuccessor
          ? others.length > 0 && this.random.chance(0.8)
            ? this.random.pick(others)
            : 'gone-replica'
          : undefined;
        // Not awaited: the fault is the call; a process killed meanwhile never answers.
        void elector.elector
          .stepDown(successor ? { successor } : {})
          .then((released) =>
            this.note(
              target,
              `stepDown(${successor ?? ''}) on ${elector.elector.name} -> ${released}`,
            ),
          );
      },
    );
  }

  /** A confirmed leader-only run: confirmLeadership(), then the side effect if it says yes. */
  private confirmedRun(): Promise<void> {
    return this.onTarget('confirmed-run', { callable: true, ours: true }, async (target) => {
      const { elector, lock } = this.electorOf(target);
      const calledAt = target.host.clock.now();
      void elector.confirmLeadership().then((confirmed) => {
        this.note(target, `confirmLeadership() on ${elector.name} -> ${confirmed}`);
        if (!confirmed) return;
        const { checker } = this.context;
        checker.confirmed(target.host.name, elector.name, calledAt, lock);
        const token = elector.fencingToken()?.toString() ?? 'none';
        checker.working(target.host.name, elector.name, 1, token, target.host.clock.now(), lock);
      });
    });
  }

  /** A new replica joins (a scale-up; in a spread election it takes shares over). */
  private async join(): Promise<void> {
    const kind = this.scenario.mode === 'spread' ? 'spread' : 'ours';
    const label = `join (${this.scenario.mode})`;
    if (this.cluster.running.size >= MAX_REPLICAS)
      return this.skip(`${label}: ${MAX_REPLICAS} replicas run`);
    this.count(label);
    const replica = this.cluster.launch(kind, this.random.pick(this.scenario.rates));
    this.context.trace.add('faults', `${label}: ${replica.host.name} joins`);
  }

  /** A replica leaves for good (a scale-down), at least two staying. */
  private async leave(): Promise<void> {
    const label = `leave (${this.scenario.mode})`;
    if (this.cluster.running.size <= 2) return this.skip(`${label}: 2 replicas left`);
    return this.onTarget(label, { callable: true, ours: true }, (target) =>
      this.cluster.stop(target),
    );
  }

  /**
   * A rolling update: each replica in turn is replaced by a new one (new identity, as in a
   * Deployment), which starts first; the old one is stopped once the new one is up. Replicas are
   * replaced until `budget` ms have passed (at least one).
   */
  private async rollingUpdate(budget: number): Promise<void> {
    const { scheduler, trace } = this.context;
    const until = scheduler.now + budget;
    const old = [...this.cluster.running].filter((replica) => replica.kind !== 'client-go');
    if (old.length === 0) return this.skip('rolling-update');
    this.count('rolling-update');
    trace.add('faults', `rolling-update of ${old.map((replica) => replica.host.name).join(', ')}`);
    for (const replica of old) {
      if (!this.cluster.running.has(replica) || replica.host.process.pauses > 0) continue;
      this.cluster.launch(replica.kind, this.random.pick(this.scenario.rates));
      await this.sleep(this.random.uniform(1000, 4000));
      if (this.cluster.running.has(replica) && replica.host.process.pauses === 0) {
        await this.cluster.stop(replica);
      }
      if (scheduler.now >= until) break;
    }
    trace.add('faults', 'rolling-update done');
  }

  /** The elector (and its lock) a step-down or confirmed run uses: a share it leads, if any. */
  private electorOf(target: Replica): { elector: LeaderElector; lock: SimLock } {
    if (target instanceof ElectorReplica) return { elector: target.elector, lock: target.lock };
    const spread = target as SpreadReplica;
    const electors = spread.spread.electors;
    const leading = electors.filter((elector) => elector.isLeader());
    const elector = this.random.pick(leading.length > 0 ? leading : electors);
    return { elector, lock: spread.lockOf(elector.name) };
  }

  /** A Lease of the run: the single one, or a share (sometimes the membership Lease). */
  private pickLease(members = 0.2): string {
    if (this.scenario.mode === 'single') return MAIN_LEASE;
    if (this.random.chance(members)) return membersLeaseName(SPREAD_LEASE);
    return shareLeaseName(SPREAD_LEASE, this.random.int(0, this.scenario.shares - 1));
  }

  private note(target: Replica, what: string): void {
    this.context.trace.add('faults', `${target.host.name}: ${what}`);
  }

  private count(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  private skip(label: string): void {
    this.context.trace.add('faults', `${label}: skipped, no target`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) =>
      this.context.scheduler.schedule(this.context.scheduler.now + ms, undefined, 'world', resolve),
    );
  }
}
