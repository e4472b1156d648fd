import type { Scheduler } from './scheduler.js';
import type { LeaderView } from './sim-context.js';
import type { SimLock } from './sim-lock.js';
import type { Trace } from './trace.js';

/** The invariants, by name (a failure names the one it broke). */
export const INVARIANTS = [
  'one-leader',
  'tokens-increase',
  'work-within-term',
  'confirmed-run',
  'stop-releases-or-says-why',
  'stop-finishes',
  'leader-after-faults',
  'fire-once',
] as const;

export type InvariantName = (typeof INVARIANTS)[number];

export interface Violation {
  readonly invariant: InvariantName;
  /** Global simulated time, ms. */
  readonly at: number;
  readonly detail: string;
}

/**
 * A log line that says a stop released the Lease, or why it did not: the release itself, the
 * release that failed, the work that outlived the grace period, a Lease that no longer names us, a
 * term that lapsed meanwhile (it holds nothing by its own account), or a release skipped on
 * purpose. "Waiting ... before releasing" is not one.
 */
const STOP_REASON =
  /\breleased\b|not releas|could not release|nothing to release|did not release|without releas|skip\w* (the )?release|release skipped|stopped leading/i;

/**
 * The safety and liveness rules every simulated run must keep, checked from each process's own view
 * (its `isLeader()`, its fencing token, its clock) after every step of the simulation:
 * - one-leader: never two processes leading one Lease (or share) at once;
 * - tokens-increase: each new leadership starts with a higher fencing token than any before it;
 * - work-within-term: leader work is admitted, and makes side effects, only before renewDeadline
 *   after the start of the process's last acknowledged write naming it (by its own clock);
 * - confirmed-run: confirmLeadership() answers true only after a write that started after the call;
 * - stop-releases-or-says-why: a stop of a process holding a Lease ends with the Lease released, or
 *   with a log line saying why not; stop-finishes: a stop ends;
 * - leader-after-faults: every Lease has a leader within 2 x leaseDuration after the last fault;
 * - fire-once (with `--once`): no fire of the `once` job starts twice, whatever the clocks, while
 *   the Lease (and its ledger) is not deleted.
 */
export class Checker {
  readonly violations: Violation[] = [];
  private readonly views = new Set<LeaderView>();
  private readonly leases = new Map<
    string,
    { lastToken?: bigint; lastBy?: LeaderView; leading: Map<LeaderView, string> }
  >();
  /** The `once` job's fires started, by `<lease>@<instant>`: who started them. */
  private readonly fires = new Map<string, string>();
  /** When the last fault healed (global time, ms), once it has. */
  healedAt: number | undefined;
  private readonly ledSinceHealed = new Set<string>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly trace: Trace,
    private readonly renewDeadline: number,
    private readonly livenessWindow: number,
    /** Invariants not enforced (to look past a known failure): a break is traced, not failed. */
    private readonly ignored: readonly InvariantName[] = [],
  ) {}

  get failed(): boolean {
    return this.violations.length > 0;
  }

  add(view: LeaderView): void {
    this.views.add(view);
    if (!this.leases.has(view.lease)) this.leases.set(view.lease, { leading: new Map() });
  }

  /** The process is gone (killed, or stopped): it leads nothing. */
  remove(view: LeaderView): void {
    this.views.delete(view);
    this.leases.get(view.lease)?.leading.delete(view);
  }

  /** Every fault has ended (and every stopped replica is back) at global time `at`. */
  healed(at: number): void {
    this.healedAt = at;
    this.trace.add(
      'checker',
      `every fault has healed: a leader of each Lease is due within ${this.livenessWindow / 1000} s`,
    );
  }

  /** One step of the simulation: the safety rules, then liveness. */
  check(): void {
    if (this.failed) return;
    const leadersByLease = new Map<string, LeaderView[]>();
    for (const view of this.views) {
      if (!view.leads()) continue;
      const list = leadersByLease.get(view.lease);
      if (list) list.push(view);
      else leadersByLease.set(view.lease, [view]);
    }
    for (const [lease, state] of this.leases) {
      const leaders = leadersByLease.get(lease) ?? [];
      if (leaders.length > 1) {
        const names = leaders.map((view) => `${view.who} (token ${view.token()})`).join(' and ');
        return this.fail('one-leader', `${names} both lead ${lease}`);
      }
      for (const view of [...state.leading.keys()]) {
        if (!leaders.includes(view)) state.leading.delete(view);
      }
      for (const view of leaders) this.checkToken(lease, state, view);
      if (this.healedAt !== undefined && leaders.length > 0) this.ledSinceHealed.add(lease);
    }
    if (this.healedAt !== undefined && this.scheduler.now >= this.healedAt + this.livenessWindow) {
      for (const lease of this.leases.keys()) {
        if (!this.ledSinceHealed.has(lease)) {
          return this.fail(
            'leader-after-faults',
            `no leader of ${lease} within ${this.livenessWindow / 1000} s after the last fault healed`,
          );
        }
      }
    }
  }

  /**
   * Leader work of `who` on `lease`: admitted (`step` 0) or about to make side effect `step`, at
   * `localNow` by its clock. Judged from the process's acknowledged writes, not from the elector.
   */
  working(
    who: string,
    lease: string,
    step: number,
    token: string,
    localNow: number,
    lock: SimLock,
  ): void {
    const until = lock.lastOwnWriteStart + this.renewDeadline;
    if (localNow >= until) {
      const what = step === 0 ? 'admitted leader work' : `made side effect ${step} of its work`;
      this.fail(
        'work-within-term',
        `${who} ${what} on ${lease} (token ${token}) ${Math.round(localNow - until)} ms after its term lapsed ` +
          '(renewDeadline after the start of its last acknowledged write, by its clock)',
      );
    }
  }

  /**
   * The Lease `lease` was deleted by an operator: its ledger of once fires is gone, and at most once
   * per fire is promised only while the ledger is not deleted. Fires are compared anew from here.
   */
  ledgerLost(lease: string): void {
    for (const key of [...this.fires.keys()])
      if (key.startsWith(`${lease}@`)) this.fires.delete(key);
  }

  /** A run of the `once` job's fire `at` started on `who` (term `token`). */
  fired(who: string, lease: string, at: number, token: string): void {
    const key = `${lease}@${at}`;
    const before = this.fires.get(key);
    if (before) {
      this.fail(
        'fire-once',
        `${who} started the fire of ${new Date(at).toISOString()} on ${lease} (token ${token}), ` +
          `which ${before} had started already`,
      );
    }
    this.fires.set(key, `${who} (token ${token})`);
  }

  /** confirmLeadership() of `who`, called at `calledAt` (its clock), answered true. */
  confirmed(who: string, lease: string, calledAt: number, lock: SimLock): void {
    if (lock.lastOwnWriteStart < calledAt) {
      this.fail(
        'confirmed-run',
        `${who}'s confirmLeadership() on ${lease} answered true without a write started after the call`,
      );
    }
  }

  /**
   * A stop of `who` that began at global time `from` ended: each Lease it held then and still names
   * it must have a log line saying it released it or why not.
   */
  stopped(
    who: string,
    identity: string,
    held: Map<string, string | null | undefined>,
    lines: readonly { message: string }[],
  ): void {
    for (const [lease, holderNow] of held) {
      if (holderNow !== identity) continue;
      const said = lines.some(
        (line) => line.message.includes(lease) && STOP_REASON.test(line.message),
      );
      if (!said) {
        this.fail(
          'stop-releases-or-says-why',
          `${who} held ${lease} when stopped; the stop ended with ${lease} still naming it and no log line saying why`,
        );
      }
    }
  }

  /** A stop that has not ended after `ms`. */
  stopHangs(who: string, ms: number): void {
    this.fail('stop-finishes', `${who}'s stop() has not ended after ${ms / 1000} s`);
  }

  fail(invariant: InvariantName, detail: string): void {
    if (this.failed) return;
    if (this.ignored.includes(invariant)) {
      this.trace.add('checker', `(ignored) ${invariant}: ${detail}`);
      return;
    }
    this.violations.push({ invariant, at: this.scheduler.now, detail });
    this.trace.add('checker', `VIOLATION ${invariant}: ${detail}`);
  }

  private checkToken(
    lease: string,
    state: { lastToken?: bigint; lastBy?: LeaderView; leading: Map<LeaderView, string> },
    view: LeaderView,
  ): void {
    const token = view.token();
    if (token === null || state.leading.get(view) === token) return;
    state.leading.set(view, token);
    const value = BigInt(token);
    const last = state.lastToken;
    if (last !== undefined && (value < last || (value === last && state.lastBy !== view))) {
      this.fail(
        'tokens-increase',
        `${view.who} leads ${lease} with token ${token}, not above ${last} (${state.lastBy?.who})`,
      );
      return;
    }
    if (last === undefined || value > last) {
      state.lastToken = value;
      state.lastBy = view;
    }
  }
}
