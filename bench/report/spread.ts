// Section 8: an election spread over shares (SpreadElector), from `npm run bench -- --only spread`
// (bench/results/spread.json) or the quick run.
import { WATCH_REOPEN } from './derived.js';
import {
  fmtExact,
  fmtMs,
  fmtNum,
  fmtSeconds,
  mean,
  profileText,
  table,
  yesNo,
  type Push,
} from './format.js';
import type { BenchResults } from './results.js';
import type { Rebalance, SpreadCell, SpreadResult } from '../scenarios/spread.js';

/** ...cost less than this share of a core per replica. */
export const SPREAD_CPU_GOAL_PERCENT = 5;

/** The run the section comes from, and where its raw data is (relative to the report). */
export interface SpreadSource {
  results: BenchResults;
  json: string;
}

const label = (c: SpreadCell) => `${c.jobs} jobs, ${c.replicas} replicas, ${c.shares} shares`;

/** "mean (min-max)" of per-replica values. */
function spreadOf(values: number[], digits = 1): string {
  if (values.length === 0) return 'n/a';
  return `${fmtNum(mean(values), digits)} (${fmtNum(Math.min(...values), digits)}-${fmtNum(Math.max(...values), digits)})`;
}

const values = (
  c: SpreadCell,
  pick: (r: SpreadCell['steady']['replicas'][number]) => number | null,
) => c.steady.replicas.map(pick).filter((v): v is number => v !== null);

/** Goal: this many jobs on this many replicas... */
export const SPREAD_GOAL_CELL = { jobs: 100, replicas: 5 };

function goalCell(spread: SpreadResult): SpreadCell | undefined {
  return spread.cells.find(
    (c) => c.jobs === SPREAD_GOAL_CELL.jobs && c.replicas === SPREAD_GOAL_CELL.replicas,
  );
}

function goalMet(cell: SpreadCell | undefined): boolean | null {
  const cpu = cell ? values(cell, (r) => r.cpuPercent) : [];
  return cpu.length === 0 ? null : Math.max(...cpu) < SPREAD_CPU_GOAL_PERCENT;
}

/** "12.3 s (4 taken, 1 step-down)" */
function moved(r: Rebalance, ms: number | null | undefined): string {
  return `${fmtMs(ms)} (${r.handovers} taken, ${r.stepDowns} step-down${r.stepDowns === 1 ? '' : 's'})`;
}

function steadyTable(spread: SpreadResult, push: Push): void {
  push(
    table(
      [
        'jobs, replicas, shares',
        'jobs per share min-max',
        'req/min all replicas',
        'req/min per replica mean (min-max)',
        'share renews',
        'membership',
        'watches opened',
        'other',
        'CPU % of a core per replica mean (min-max)',
        'RSS MB per replica mean (min-max)',
      ],
      spread.cells.map((c) => {
        const p = c.steady.perMinute;
        return [
          label(c),
          `${Math.min(...c.jobsPerShare)}-${Math.max(...c.jobsPerShare)}`,
          fmtNum(p.total, 1),
          spreadOf(values(c, (r) => r.perMinute.total)),
          fmtNum(p.renews, 1),
          fmtNum(p.membership, 1),
          fmtNum(p.watches, 1),
          fmtNum(p.other, 1),
          spreadOf(
            values(c, (r) => r.cpuPercent),
            2,
          ),
          spreadOf(
            values(c, (r) => r.rssMb),
            0,
          ),
        ];
      }),
    ),
    '',
  );
}

function rebalanceTable(spread: SpreadResult, push: Push): void {
  push(
    table(
      [
        'jobs, replicas, shares',
        'start: balanced after',
        'join: first balanced / lasting balance',
        'crash: shares of the killed replica, all led again after',
        'crash: first balanced / lasting balance',
        'crash: moves after the lasting balance',
        'two leaders of one share',
      ],
      spread.cells.map((c) => [
        label(c),
        moved(c.start, c.start.balancedMs),
        `${fmtMs(c.join.firstBalancedMs)} / ${moved(c.join, c.join.balancedMs)}`,
        `${c.crash.victimShares ?? 'n/a'}, ${fmtMs(c.crash.allLedMs)}`,
        `${fmtMs(c.crash.firstBalancedMs)} / ${moved(c.crash, c.crash.balancedMs)}`,
        String(c.crash.movesAfter ?? 'n/a'),
        c.overlap.totalMs > 0
          ? `**${fmtMs(c.overlap.totalMs)}** (shares ${c.overlap.shares.join(', ')})`
          : 'none',
      ]),
    ),
    '',
  );
}

/** What the steady-state numbers are made of, computed from the timings. */
function expectedLoad(spread: SpreadResult): string {
  const first = spread.cells[0];
  const renewsPerShare = 60_000 / first.renewInterval;
  const membershipPerReplica = 60_000 / first.membershipInterval;
  return (
    `Each share's leader renews its Lease every ${fmtSeconds(first.renewInterval)} (${fmtExact(renewsPerShare)} ` +
    `\`update\`s per share per minute, ${spread.cells.map((c) => fmtExact(c.shares * renewsPerShare)).join(' / ')} ` +
    `for the cells in order); each replica renews its membership entry every ${fmtSeconds(first.membershipInterval)} ` +
    `with a jitter of 10 % (about ${fmtExact(membershipPerReplica)} writes per replica per minute); each replica ` +
    'holds one watch per share and one on the membership Lease, which the server ends every ' +
    `${WATCH_REOPEN.minMinutes} to ${WATCH_REOPEN.maxMinutes} minutes (${fmtExact(WATCH_REOPEN.minPerMinute)} to ` +
    `${fmtExact(WATCH_REOPEN.maxPerMinute)} re-opens per watch per minute), so a window this short catches a few or none.`
  );
}

function crossCheck(most: number): string {
  const agree =
    most === 0 ? 'agree exactly' : `agree within ${most} request${most === 1 ? '' : 's'}`;
  return `Cross-check: each replica's own request counter and the audit log ${agree} over the window.`;
}

/** "14 min", or "40 s" for a short run. */
const duration = (seconds: number) =>
  seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;

export function spreadSection(source: SpreadSource, push: Push): void {
  const spread = source.results.spread;
  if (!spread) return;
  const run = source.results;
  const first = spread.cells[0];
  const quick = run.mode === 'quick';
  push(
    '## 8. Spreading',
    '',
    `Generated by \`npm run bench -- ${quick ? '--quick' : '--only spread'}\` on ${run.startedAt.slice(0, 10)}` +
      `${run.machine.commit ? ` at ${run.machine.commit}` : ''} (${duration(run.durationS)}; load average ` +
      `${spread.loadAverage.before.toFixed(2)} before, ${spread.loadAverage.after.toFixed(2)} after). Raw data: ` +
      `[${source.json}](${source.json}).${quick ? '' : ' The full run (`npm run bench`) leaves this scenario out; its section shows the latest `--only spread` run.'}`,
    '',
    'An election spread over shares (`SpreadElector`): each replica is a process of its own ' +
      '(`test/fixtures/spread-candidate.ts`, compiled; one `KubernetesLeaseLock` per Lease, every request with the ' +
      "replica's identity as User-Agent), a candidate on every share Lease (`<lease>-share-<i>`) and an entry in the " +
      'membership Lease (`<lease>-members`). The jobs `Jobs.job<i>` map to shares by rendezvous hashing; every replica ' +
      "checks each job's gate (`electorFor(job).isLeader()`) every second. **Shares: two per replica, at most one per " +
      `job** (${spread.cells.map((c) => `${c.shares} for ${c.jobs} jobs on ${c.replicas}`).join(', ')}): enough for each ` +
      "replica to lead two, and for a crashed replica's shares to land on more than one survivor. Timings " +
      `${profileText(spread.profile)}, renew every ${fmtSeconds(first.renewInterval)}, membership renewed every ` +
      `${fmtSeconds(first.membershipInterval)} (an entry counts for three intervals). The cells run one after the other.`,
    '',
    `**Steady state.** After the shares were balanced and ${fmtSeconds(spread.warmupMs)} of warm-up, over ` +
      `${fmtSeconds(spread.windowMs)}: requests per minute **on the server** (audit log, by User-Agent), all replicas ` +
      'together and split into share renews (`update` of a share Lease), membership (every request on the membership ' +
      'Lease but watches), watches opened and the rest; CPU over the window in percent of one core, RSS at its end.',
    '',
  );
  steadyTable(spread, push);
  const goal = goalCell(spread);
  const goalCpu = goal ? values(goal, (r) => r.cpuPercent) : [];
  const counted = spread.cells.flatMap((c) =>
    c.steady.replicas.flatMap((r) =>
      r.clientCounted === null ? [] : [Math.abs(r.clientCounted - r.serverCounted)],
    ),
  );
  push(
    expectedLoad(spread),
    '',
    `Goal: ${SPREAD_GOAL_CELL.jobs} jobs on ${SPREAD_GOAL_CELL.replicas} replicas under ` +
      `${SPREAD_CPU_GOAL_PERCENT} % of a core per replica: ` +
      (goal
        ? `${yesNo(goalMet(goal))}${goalCpu.length > 0 ? ` (at most ${fmtNum(Math.max(...goalCpu), 2)} %)` : ''}.`
        : 'not measured in this run.') +
      (counted.length > 0 ? ` ${crossCheck(Math.max(...counted))}` : ''),
    '',
    `**Join and crash.** After the window, replica ${first.replicas + 1} of the cell starts (_join_); once the shares ` +
      'are balanced again, the original replica that leads the most shares gets SIGKILL (_crash_). _Balanced_: every ' +
      'share led by exactly one live replica, each live replica leading floor or ceil of S/R, from their own ' +
      `\`started_leading\` / \`stopped_leading\` reports; _lasting_: no share changed hands for ${fmtSeconds(spread.quietMs)} ` +
      'after it (five balance checks). Times from the spawn of the new process (its start-up included) or the ' +
      'SIGKILL; _taken_: `started_leading` reports until the lasting balance, _step-downs_: handovers to even out ' +
      "the shares. _Moves after_: shares taken after the lasting balance until the killed replica's membership entry " +
      'had surely expired. _Two leaders_: time in which two replicas reported leading one share, over the whole cell.',
    '',
  );
  rebalanceTable(spread, push);
  explain(spread, push);
  const failures = run.failures.filter((f) => f.scenario.startsWith('spread'));
  if (failures.length > 0)
    push(...failures.map((f) => `- **Failed**: ${f.scenario}: ${f.reason.split('\n')[0]}`), '');
}

/** Step-downs after a crash that named the killed replica as successor. */
const toVictim = (c: SpreadCell) =>
  (c.crash.successors ?? []).filter((s) => s === c.crash.replica).length;

/** What the rebalancing numbers say, one row per cell, and a short paragraph. */
function explain(spread: SpreadResult, push: Push): void {
  push(
    table(
      [
        'jobs, replicas, shares',
        'join: shares moved',
        'crash: step-downs naming the killed replica',
        'survivors',
        'jobs per replica (shares balanced)',
      ],
      spread.cells.map((c) => {
        const jobs = c.steady.replicas.map((r) => r.jobs);
        return [
          label(c),
          String(c.join.handovers),
          String(toVictim(c)),
          String(c.replicas),
          `${Math.min(...jobs)}-${Math.max(...jobs)}`,
        ];
      }),
    ),
    '',
  );
  const ttl = fmtSeconds(3 * (spread.cells[0]?.membershipInterval ?? 0));
  const bounded = spread.cells.every((c) => toVictim(c) <= c.replicas);
  push(
    `After a crash the killed replica's membership entry still counts for up to ${ttl}, so a survivor above ` +
      'its quota may name it as successor; ' +
      (bounded
        ? 'each survivor does so at most once, then leaves it out until it renews its entry.'
        : '**some survivors named it more than once** (see the raw data).') +
      ' The balance is of shares, not of jobs: rendezvous hashing puts an uneven number of jobs on each share.',
    '',
  );
  const problems = spread.cells.flatMap((c) => c.problems);
  if (problems.length > 0) {
    push(
      `The replicas logged ${problems.length} warnings or errors; the first: ${problems[0]}.`,
      '',
    );
  }
}
