import type { Clock } from '../clock.js';
import type { FencingToken } from '../fencing-token.js';
import type { LeaderElector } from '../leader-elector.js';
import { planCatchUp, type CatchUpPolicy } from './catch-up-plan.js';
import type { FireClaimRequest } from './fire-claims.js';
import { latestAtOrBefore, periodOf, type FireSchedule } from './fire-schedule.js';

/** What became of one fire, as the replica that decided it records it. */
export type FireResult =
  /** Claimed and run at its tick. */
  | 'ran'
  /** Claimed and run late, by a leader catching up fires that fell due while nobody ran them. */
  | 'caught-up'
  /** Not run: a later fire ran in its place (`catchUp: 'latest'`). */
  | 'coalesced'
  /** Not run: outside the catch-up window, past the bound, `catchUp: 'none'`, or refused (`reason`). */
  | 'missed'
  /** Claimed by a leader that stopped leading before recording its end (it may have run partly). */
  | 'interrupted'
  /** Not run here: the ledger showed it (or a later fire) claimed already. */
  | 'already-ran';

/** One fire's outcome. */
export interface FireOutcome {
  /** The election's name. */
  readonly election: string;
  /** The job's name (`ClassName.methodName` unless `@LeaderOnly({ job })` names it). */
  readonly job: string;
  /** The fire's scheduled instant. */
  readonly scheduledAt: Date;
  /** What became of the fire. */
  readonly result: FireResult;
  /** Why a fire was missed beyond the window and bound (a zone mismatch, a full ledger). */
  readonly reason?: string;
  /** What a run threw, if it did (the fire still ran: its end is recorded). */
  readonly error?: unknown;
}

/** What a run of a fire knows about itself (`LeaderService.currentRun()`). */
export interface FireRun {
  /** The job's name. */
  readonly job: string;
  /** The fire's scheduled instant. */
  readonly scheduledAt: Date;
  /** Whether it runs late, catching up a fire that fell due while nobody ran it. */
  readonly catchUp: boolean;
  /** The fencing token of the term that claimed it. */
  readonly fencingToken: FencingToken;
  /** `<job>@<ISO instant>`: an idempotency key for the job's own writes. */
  readonly key: string;
  /** Aborts when the term that claimed the fire ends. */
  readonly signal: AbortSignal;
}

/** How a `once` job catches up and what it is. */
export interface OnceJobOptions {
  /** The election's name (for outcomes). */
  readonly election: string;
  readonly job: string;
  readonly schedule: FireSchedule;
  readonly catchUp: CatchUpPolicy;
  /** ms */
  readonly catchUpWindow: number;
  readonly rerunInterrupted: boolean;
}

/** What a {@link OnceJob} needs of its surroundings. */
export interface OnceJobHost {
  readonly clock: Clock;
  /** The elector that decides the job, or undefined when it is held back (shares changing). */
  elector(): LeaderElector | undefined;
  /** Runs the job's method for one fire; resolves when it ended, rejects with what it threw. */
  run(fire: FireRun): Promise<unknown>;
  /** Records an outcome (metrics, log line, Event, the `fires()` stream). */
  report(outcome: FireOutcome): void;
}

/**
 * How much later than now a tick's own instant may be: a timer never fires before the cron
 * library's instant by its own clock (the one used here), so this covers rounding only.
 */
export const TICK_TOLERANCE = 10;

/**
 * One `once` job: each tick claims its fire in the Lease before running it, after catching up the
 * fires that fell due while nobody ran them; a new leader catches up through {@link catchUp}. Ticks
 * and catch-ups of one job are handled one after another.
 */
export class OnceJob {
  private chain: Promise<void> = Promise.resolve();
  /** A tick waiting for the one before it to end, if any. */
  private waitingTick: Promise<void> | undefined;
  private readonly period: number;
  /** Per term: the latest instant already accounted for (claimed, run or reported). */
  private accounted: { term: number; at: number } | undefined;
  /** The interrupted fire last reported (`<term>@<instant>`), reported once. */
  private reportedInterrupted: string | undefined;

  constructor(
    readonly options: OnceJobOptions,
    private readonly host: OnceJobHost,
  ) {
    this.period = periodOf(options.schedule, host.clock.wallNow().getTime());
  }

  /** A tick of the job's cron timer: claims and runs its fire (after any missed ones). */
  tick(): Promise<void> {
    // A follower's tick does nothing (the leader accounts for every fire): skip the date arithmetic.
    if (!this.host.elector()?.isLeader()) return Promise.resolve();
    // Behind a run that outlasts the period, one tick waits; later ones join it: its fire is the
    // latest due when it starts, and the fires in between are a gap it handles as `catchUp` says.
    if (this.waitingTick) return this.waitingTick;
    const tick = this.serially(() => {
      this.waitingTick = undefined;
      const now = this.host.clock.wallNow().getTime();
      const at = latestAtOrBefore(this.options.schedule, now + TICK_TOLERANCE);
      return at === undefined ? Promise.resolve() : this.bringUpTo(at);
    });
    this.waitingTick = tick;
    return tick;
  }

  /** Runs the fires that fell due while nobody ran them (a new leader, after bootstrap). */
  catchUp(): Promise<void> {
    return this.serially(() => this.bringUpTo(undefined));
  }

  private serially(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Catches up before `at` (a tick's fire) or now, then claims and runs `at` itself. */
  private async bringUpTo(at: number | undefined): Promise<void> {
    const elector = this.host.elector();
    const fireTerm = elector?.fireTerm();
    if (!elector || !fireTerm) return; // a follower: the leader accounts for every fire
    const work = elector.beginLeaderWork(this.options.job);
    if (!work) return;
    try {
      const { job, schedule, catchUp, catchUpWindow, rerunInterrupted } = this.options;
      const now = this.host.clock.wallNow().getTime();
      const entry = fireTerm.ledger?.jobs[job];
      const accounted = this.accounted?.term === fireTerm.term ? this.accounted.at : undefined;
      const plan = planCatchUp({
        schedule,
        entry,
        accountedUpTo: accounted,
        term: fireTerm.term,
        termStart: fireTerm.since.getTime(),
        keptBefore: fireTerm.keptBefore,
        now,
        before: at,
        policy: catchUp,
        window: catchUpWindow,
        rerunInterrupted,
      });
      const interrupted =
        plan.interrupted === undefined ? undefined : `${entry!.term}@${plan.interrupted}`;
      if (plan.interrupted !== undefined && interrupted !== this.reportedInterrupted) {
        this.reportedInterrupted = interrupted;
        elector.recordFireEnd(job, plan.interrupted, 'interrupted');
        this.report(plan.interrupted, 'interrupted');
        if (
          plan.rerunInterrupted &&
          !(await this.claimAndRun(elector, fireTerm.term, plan.interrupted, true, true))
        )
          return;
      }
      for (const missed of plan.missed) this.report(missed, 'missed');
      for (const coalesced of plan.coalesced) this.report(coalesced, 'coalesced');
      this.account(fireTerm.term, [...plan.missed, ...plan.coalesced]);
      for (const late of plan.run) {
        if (!(await this.claimAndRun(elector, fireTerm.term, late, true))) return;
      }
      if (at !== undefined) await this.claimAndRun(elector, fireTerm.term, at, false);
    } finally {
      work.end();
    }
  }

  /** Claims one fire and runs it when claimed; resolves whether to go on with later fires. */
  private async claimAndRun(
    elector: LeaderElector,
    term: number,
    at: number,
    catchUp: boolean,
    rerun = false,
  ): Promise<boolean> {
    const { job, schedule } = this.options;
    const request: FireClaimRequest = {
      job,
      at,
      zone: schedule.zone,
      explicitZone: schedule.explicitZone,
      period: this.period,
      ...(rerun ? { rerun } : {}),
    };
    const [answer] = await elector.claimFires([request]);
    switch (answer.result) {
      case 'not-leading':
        return false; // the next leader accounts for it
      case 'already-claimed':
        this.report(at, 'already-ran');
        return true;
      case 'zone-differs':
        // Not in the ledger: accounted here, or the next tick would report it again.
        this.account(term, [at]);
        this.report(at, 'missed', { reason: `zone-differs:${answer.recorded}` });
        return true;
      case 'ledger-full':
        this.account(term, [at]);
        this.report(at, 'missed', { reason: 'ledger-full' });
        return true;
    }
    this.account(answer.term, [at]);
    const scheduledAt = new Date(at);
    const fire: FireRun = {
      job,
      scheduledAt,
      catchUp,
      fencingToken: answer.fencingToken,
      key: `${job}@${scheduledAt.toISOString()}`,
      signal: answer.signal,
    };
    let error: unknown;
    try {
      await this.host.run(fire);
    } catch (thrown) {
      error = thrown;
    }
    elector.recordFireEnd(job, at, 'done');
    this.report(at, catchUp ? 'caught-up' : 'ran', error === undefined ? {} : { error });
    return true;
  }

  private account(term: number, instants: readonly number[]): void {
    const latest = Math.max(...instants, this.accounted?.term === term ? this.accounted.at : -1);
    if (latest >= 0) this.accounted = { term, at: latest };
  }

  private report(at: number, result: FireResult, more: Partial<FireOutcome> = {}): void {
    const { election, job } = this.options;
    this.host.report({ election, job, scheduledAt: new Date(at), result, ...more });
  }
}
