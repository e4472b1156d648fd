// Pure analysis of a chaos run's event log: overlap of leader-only work (of the election, and per
// job of the election spread over shares), gaps, cron runs lost or doubled. Unit-tested in
// test/chaos/checker.spec.ts.

/** One JSON line of a replica (see replica.ts), or a harness record. */
export interface ReplicaEvent {
  t: number;
  id: string;
  type: string;
  run?: number;
  step?: number;
  slot?: number;
  isLeader?: boolean;
  leader?: string | null;
  token?: number | null;
  last?: number;
  message?: string;
  level?: string;
  /** The replica's own time when `t` was taken on arrival at the harness (its clock is faked). */
  replicaT?: number;
  /** A cron tick's second by the replica's own clock when `slot` is the real one (its clock is faked). */
  replicaSlot?: number;
  /** The job of a spread election's work event (`job-start`, `job-step`, ...). */
  job?: string;
  /** The share of a spread election's change event (`share-change`). */
  share?: number;
  /** A `once` fire's scheduled instant, ms (`once-run`, `fire`). */
  at?: number;
  /** A `once` fire's outcome (`fire`). */
  result?: string;
}

/** A fault as the harness injected it. */
export interface FaultWindow {
  name: string;
  start: number;
  /** When the harness saw a stable leader again. */
  recovered: number;
}

export interface WorkInterval {
  id: string;
  run: number;
  start: number;
  end: number;
  /** The job, for work of the spread election. */
  job?: string;
}

/**
 * Admitted leader-only work per run: from admission to its last committed step. `kind` `work`:
 * the election's job (`work-start`, `work-step`, ...); `job`: the spread election's jobs
 * (`job-start`, `job-step`, ..., each interval naming its job).
 */
export function workIntervals(
  events: ReplicaEvent[],
  kind: 'work' | 'job' = 'work',
): WorkInterval[] {
  const open = new Map<string, WorkInterval>();
  const done: WorkInterval[] = [];
  for (const e of events) {
    const key = `${e.id}#${e.job ?? ''}#${e.run}`;
    if (e.type === `${kind}-start`) {
      const interval = { id: e.id, run: e.run!, start: e.t, end: e.t };
      open.set(key, e.job === undefined ? interval : { ...interval, job: e.job });
    } else if (e.type === `${kind}-step`) {
      const interval = open.get(key);
      if (interval) interval.end = e.t;
    } else if (e.type === `${kind}-end` || e.type === `${kind}-abort`) {
      const interval = open.get(key);
      if (interval && e.type === `${kind}-end`) {
        open.delete(key);
        done.push(interval);
      }
    }
  }
  // Runs cut short by a kill: what they committed counts.
  done.push(...open.values());
  return done.sort((a, b) => a.start - b.start);
}

/**
 * Total milliseconds during which work of two or more different replicas was running, and the
 * pairs involved. Zero is the promise.
 */
export function overlap(intervals: WorkInterval[]): { totalMs: number; cases: string[] } {
  const points: { t: number; id: string; delta: 1 | -1 }[] = [];
  for (const i of intervals) {
    if (i.end <= i.start) continue;
    points.push({ t: i.start, id: i.id, delta: 1 }, { t: i.end, id: i.id, delta: -1 });
  }
  // Ends before starts at the same instant: touching intervals do not overlap.
  points.sort((a, b) => a.t - b.t || a.delta - b.delta);
  const active = new Map<string, number>();
  let total = 0;
  let last = 0;
  const cases: string[] = [];
  for (const p of points) {
    const replicas = [...active.entries()].filter(([, n]) => n > 0).map(([id]) => id);
    if (replicas.length >= 2) {
      total += p.t - last;
      const label = replicas.sort().join(' + ');
      if (!cases.includes(label)) cases.push(label);
    }
    active.set(p.id, (active.get(p.id) ?? 0) + p.delta);
    last = p.t;
  }
  return { totalMs: total, cases };
}

/**
 * The longest time without committed leader-only work inside [from, to]: of the election's job,
 * or of the spread election's jobs that `jobs` accepts (a share's jobs, for that share's gap).
 */
export function longestGap(
  events: ReplicaEvent[],
  from: number,
  to: number,
  jobs?: (job: string) => boolean,
): number {
  const committed = (e: ReplicaEvent) =>
    jobs ? e.type === 'job-step' && jobs(e.job!) : e.type === 'work-step';
  const steps = events
    .filter((e) => committed(e) && e.t >= from && e.t <= to)
    .map((e) => e.t)
    .sort((a, b) => a - b);
  let gap = 0;
  let previous = from;
  for (const t of steps) {
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return Math.max(gap, to - previous);
}

export interface CronReport {
  /** Seconds executed by more than one replica (or twice). */
  doubled: number[];
  /** Seconds between the first and last run with no execution. */
  lost: number[];
  /** Lost seconds that fall inside a fault window (expected: nobody leads for a while). */
  lostDuringFaults: number;
  /** Lost seconds outside every fault window (should be 0). */
  lostOutsideFaults: number;
}

export function cronReport(events: ReplicaEvent[], faults: FaultWindow[]): CronReport {
  const counts = new Map<number, number>();
  for (const e of events)
    if (e.type === 'tick') counts.set(e.slot!, (counts.get(e.slot!) ?? 0) + 1);
  const slots = [...counts.keys()].sort((a, b) => a - b);
  const doubled = slots.filter((slot) => counts.get(slot)! > 1);
  const lost: number[] = [];
  if (slots.length) {
    for (let s = slots[0]; s <= slots[slots.length - 1]; s++) if (!counts.has(s)) lost.push(s);
  }
  // A second is excused when it lies in a fault window (slots are wall-clock seconds).
  const inFault = (slot: number) =>
    faults.some((f) => slot * 1000 >= f.start - 1000 && slot * 1000 <= f.recovered + 1000);
  const lostDuringFaults = lost.filter(inFault).length;
  return { doubled, lost, lostDuringFaults, lostOutsideFaults: lost.length - lostDuringFaults };
}

export interface OnceReport {
  /** Runs of the `once` job. */
  runs: number;
  /** Instants run more than once (must be none: at most once per fire). */
  doubled: number[];
  /**
   * Instants from the first to the last seen with neither a run nor an outcome other than
   * `already-ran` (must be none: every fire's outcome recorded), outside `ledgerLost` windows.
   */
  unaccounted: number[];
  /** The same inside windows of faults that delete the Lease (and its ledger) under a cut-off holder. */
  unaccountedLedgerLost: number[];
  /** Outcomes by result, over every replica. */
  results: Record<string, number>;
  /** Instants in the same span that never started a run (coalesced, missed, interrupted before it). */
  notStarted: number[];
  /** Instants reported `interrupted`: claimed by a replica that stopped before recording the end. */
  interrupted: number[];
  /**
   * The plain `@LeaderOnly` cron job of the same replicas over the same seconds (the positive
   * control): seconds it never ran, seconds it ran more than once.
   */
  withoutOnce: { lost: number; doubled: number };
}

/**
 * The `once` job's fires (events `once-run` and `fire`): at most once per scheduled instant, and
 * every instant accounted for. The last `settle` ms are left out: their fires may still be in flight
 * when the run ends.
 */
export function onceReport(
  events: ReplicaEvent[],
  ledgerLost: readonly FaultWindow[] = [],
  settle = 3_000,
): OnceReport {
  const runs = new Map<number, number>();
  const accounted = new Set<number>();
  const results: Record<string, number> = {};
  const interrupted: number[] = [];
  for (const e of events) {
    if (e.type === 'once-run') {
      runs.set(e.at!, (runs.get(e.at!) ?? 0) + 1);
      accounted.add(e.at!);
    } else if (e.type === 'fire') {
      results[e.result!] = (results[e.result!] ?? 0) + 1;
      if (e.result !== 'already-ran') accounted.add(e.at!);
      if (e.result === 'interrupted') interrupted.push(e.at!);
    }
  }
  const instants = [...accounted].sort((a, b) => a - b);
  const unaccounted: number[] = [];
  const unaccountedLedgerLost: number[] = [];
  const lost = (at: number) => ledgerLost.some((f) => at >= f.start && at <= f.recovered + settle);
  if (instants.length) {
    const last = Math.max(...events.map((e) => e.t)) - settle;
    for (let at = instants[0]; at <= Math.min(instants[instants.length - 1], last); at += 1000)
      if (!accounted.has(at)) (lost(at) ? unaccountedLedgerLost : unaccounted).push(at);
  }
  const doubled = [...runs].filter(([, count]) => count > 1).map(([at]) => at);
  const total = [...runs.values()].reduce((sum, count) => sum + count, 0);
  const notStarted = instants.filter((at) => !runs.has(at));
  return {
    runs: total,
    doubled,
    unaccounted,
    unaccountedLedgerLost,
    results,
    notStarted,
    interrupted,
    withoutOnce: plainJob(events, instants),
  };
}

/** The plain cron job's ticks (`tick`, by real second) over the seconds `instants` span. */
function plainJob(events: ReplicaEvent[], instants: number[]): OnceReport['withoutOnce'] {
  const ticks = new Map<number, number>();
  for (const e of events)
    if (e.type === 'tick') ticks.set(e.slot! * 1000, (ticks.get(e.slot! * 1000) ?? 0) + 1);
  let lost = 0;
  let doubled = 0;
  if (instants.length) {
    for (let at = instants[0]; at <= instants[instants.length - 1]; at += 1000) {
      const count = ticks.get(at) ?? 0;
      if (count === 0) lost += 1;
      if (count > 1) doubled += 1;
    }
  }
  return { lost, doubled };
}

/** Overlap (as {@link overlap}) counted only inside [from, to]. */
export function overlapWithin(intervals: WorkInterval[], from: number, to: number): number {
  const clipped = intervals
    .map((i) => ({ ...i, start: Math.max(i.start, from), end: Math.min(i.end, to) }))
    .filter((i) => i.end > i.start);
  return overlap(clipped).totalMs;
}

/**
 * Overlap (as {@link overlap}) outside the given windows, measured on the stretches between them
 * (no subtraction, so no rounding residue). Used to leave out positive controls, whose overlap is
 * expected.
 */
export function overlapOutside(intervals: WorkInterval[], windows: FaultWindow[]): number {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  let total = 0;
  let from = -Infinity;
  for (const w of sorted) {
    if (w.start > from) total += overlapWithin(intervals, from, w.start);
    from = Math.max(from, w.recovered);
  }
  return total + overlapWithin(intervals, from, Infinity);
}

/**
 * The leaders in [from, to] in order, starting with `leader` (the one leading at `from`), from the
 * replicas' change events saying they lead; a replica acquiring again right after itself is not a
 * move. `moves` counts the changes of leader: a rolling update's goal is 1 (the old leader is
 * replaced once).
 */
export function leadershipMoves(
  events: ReplicaEvent[],
  leader: string,
  from: number,
  to: number,
): { moves: number; leaders: string[] } {
  const leaders = [leader];
  const acquired = events
    .filter((e) => e.type === 'change' && e.isLeader === true && e.t >= from && e.t <= to)
    .sort((a, b) => a.t - b.t);
  for (const e of acquired) if (leaders.at(-1) !== e.id) leaders.push(e.id);
  return { moves: leaders.length - 1, leaders };
}

/**
 * What is wrong with the leaders of one rolling update, or undefined when it moved as documented:
 * the leader ends on a replica the rollout started, every leader before it was an old one (each
 * stopped in its turn: a new replica, once leading, keeps leading), and nobody leads twice.
 * `leaders`: in order, the first led at the injection; `old`: the replicas the rollout replaced.
 */
export function rolloutMoveProblem(leaders: string[], old: string[]): string | undefined {
  const last = leaders.at(-1);
  if (leaders.length < 2 || last === undefined) return 'the old leader was not replaced';
  if (old.includes(last)) return `an old replica (${last}) leads after the rollout`;
  const before = leaders.slice(0, -1);
  const fresh = before.filter((id) => !old.includes(id));
  if (fresh.length > 0) return `a new replica (${fresh.join(', ')}) lost leadership in the rollout`;
  if (new Set(leaders).size !== leaders.length)
    return `a replica led twice: ${leaders.join(' -> ')}`;
  return undefined;
}

/** "leadership changes per fault: 1 in 11 of 12, 2 in 1 of 12 (goal 1)", or nothing. */
export function changesNote(changes: number[], goal: number | undefined): string | undefined {
  if (!changes.length) return undefined;
  const counts = new Map<number, number>();
  for (const c of changes) counts.set(c, (counts.get(c) ?? 0) + 1);
  const parts = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([c, n]) => `${c} in ${n} of ${changes.length}`);
  return `leadership changes per fault: ${parts.join(', ')}${goal === undefined ? '' : ` (goal ${goal})`}`;
}

/** The spread election's work intervals by job (for {@link overlap} per job). */
export function intervalsByJob(intervals: WorkInterval[]): Map<string, WorkInterval[]> {
  const byJob = new Map<string, WorkInterval[]>();
  for (const i of intervals) {
    if (i.job === undefined) continue;
    byJob.set(i.job, [...(byJob.get(i.job) ?? []), i]);
  }
  return byJob;
}

/**
 * Per share of a spread election, the longest time inside [from, to] without a committed step of
 * any of its jobs (`shareOfJob` maps each job to its share): an upper bound of how long the share
 * was without a leader, give or take the jobs' interval.
 */
export function shareGaps(
  events: ReplicaEvent[],
  shareOfJob: Record<string, number>,
  shares: number,
  from: number,
  to: number,
): number[] {
  return Array.from({ length: shares }, (_, share) =>
    longestGap(events, from, to, (job) => shareOfJob[job] === share),
  );
}
