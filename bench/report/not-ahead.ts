// Section 9: every comparison where ours is not ahead (or misses a target), one table row each with
// the figures and a short reason; the reasons are chosen by comparing the numbers.
import { HANDOVER_BURST_MS, TARGETS } from './derived.js';
import {
  fmtMs,
  fmtNs,
  fmtNum,
  fmtSeconds,
  mean,
  median,
  stat,
  table,
  type Push,
} from './format.js';
import { group, series, type BenchResults } from './results.js';
import { rolloutNotAhead } from './rollout.js';

/** One row: what is compared, ours, client-go (or the target), why. */
export type NotAheadRow = [what: string, ours: string, theirs: string, why: string];

/** The Node runtime, not the election: the reason for every memory and idle-CPU row. */
const RUNTIME =
  'the Node.js runtime with @kubernetes/client-node, which a Nest app pays for anyway';
/** A request through the JavaScript client stack costs more CPU than one through client-go. */
const CLIENT_CPU = 'per-request CPU of the JavaScript client stack (generated client, JSON)';

function loadRows(results: BenchResults, rows: NotAheadRow[]): void {
  const load = results.load;
  const o3 = group(load, 'ours-3');
  const g3 = group(load, 'go-3');
  const followerMean = (label: string, key: 'rssMb' | 'cpuPercent') => {
    const g = group(load, label);
    return g ? mean(g.followers.map((f) => f[key] ?? 0)) : Number.NaN;
  };
  if (followerMean('ours-3', 'rssMb') > followerMean('go-3', 'rssMb')) {
    rows.push([
      'RSS of an idle follower',
      `${fmtNum(followerMean('ours-3', 'rssMb'), 0)} MB`,
      `${fmtNum(followerMean('go-3', 'rssMb'), 0)} MB`,
      RUNTIME,
    ]);
  }
  if (followerMean('ours-3', 'cpuPercent') > followerMean('go-3', 'cpuPercent')) {
    rows.push([
      'CPU of an idle follower (% of a core)',
      fmtNum(followerMean('ours-3', 'cpuPercent'), 2),
      fmtNum(followerMean('go-3', 'cpuPercent'), 2),
      `${RUNTIME}; ours sends no requests; both negligible`,
    ]);
  }
  if (o3 && g3 && (o3.leader.cpuPercent ?? 0) > (g3.leader.cpuPercent ?? 0)) {
    rows.push([
      `CPU of the leader (% of a core; ${fmtNum(o3.leader.requestsPerMinute, 0)} vs ${fmtNum(g3.leader.requestsPerMinute, 0)} renewals/min)`,
      fmtNum(o3.leader.cpuPercent, 2),
      fmtNum(g3.leader.cpuPercent, 2),
      CLIENT_CPU,
    ]);
  }
}

function failoverRows(results: BenchResults, rows: NotAheadRow[]): void {
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'crash', 'ours', profile);
    const g = series(results, 'crash', 'client-go', profile);
    if (!o || !g) continue;
    const ratio = (stat(g.takeoverMs, 'p50') ?? 0) / (stat(o.takeoverMs, 'p50') ?? 1);
    if (ratio >= TARGETS.crashSpeedup) continue;
    rows.push([
      `Crash failover from the SIGKILL, p50, ${profile} timings (excess over the lease p95)`,
      `${fmtMs(stat(o.takeoverMs, 'p50'))} (${fmtMs(stat(o.beyondLeaseDurationMs, 'p95'))})`,
      `${fmtMs(stat(g.takeoverMs, 'p50'))} (${fmtMs(stat(g.beyondLeaseDurationMs, 'p95'))})`,
      'nobody may take over before the Lease expires; we save only the polling delay on top',
    ]);
  }
}

function scaleRows(results: BenchResults, rows: NotAheadRow[]): void {
  const oc = results.scale.candidates.find((c) => c.impl === 'ours');
  const gc = results.scale.candidates.find((c) => c.impl === 'client-go');
  if (oc && gc && oc.handovers.length > 0 && gc.handovers.length > 0) {
    const oursMs = median(oc.handovers.map((h) => h.handoverMs));
    const theirsMs = median(gc.handovers.map((h) => h.handoverMs));
    if (oursMs >= theirsMs) {
      rows.push([
        `Graceful handover, ${oc.candidates} candidates, median`,
        fmtMs(oursMs),
        fmtMs(theirsMs),
        "with this many followers one of client-go's polls falls right after the release; ours wait a takeover delay",
      ]);
    }
    const herd = oc.handovers.map((h) => (h.requests ? h.requests.total - 1 : 0));
    if (Math.max(...herd) > TARGETS.herdRequests) {
      rows.push([
        `Followers' requests per handover, ${oc.candidates} candidates (in order)`,
        `${herd.join(', ')} (median ${fmtNum(median(herd), 0)})`,
        `goal <= ${TARGETS.herdRequests}`,
        'the first handovers after start: the takeover path runs for the first time and watches deliver late',
      ]);
    }
    const burst = mean(oc.handovers.map((h) => h.requestsAfter));
    const theirBurst = mean(gc.handovers.map((h) => h.requestsAfter));
    if (burst >= theirBurst) {
      rows.push([
        `Requests in the ${fmtSeconds(HANDOVER_BURST_MS)} after a release, ${oc.candidates} candidates`,
        fmtNum(burst, 0),
        fmtNum(theirBurst, 0),
        "client-go's are its ordinary polling",
      ]);
    }
  }
  const oe = results.scale.elections.find((e) => e.impl === 'ours');
  const ge = results.scale.elections.find((e) => e.impl === 'client-go');
  if (oe && ge && oe.leaderProcess.cpuPercent > ge.leaderProcess.cpuPercent) {
    rows.push([
      `CPU of a process leading ${oe.elections} elections (% of a core)`,
      fmtNum(oe.leaderProcess.cpuPercent, 1),
      fmtNum(ge.leaderProcess.cpuPercent, 1),
      `${CLIENT_CPU}, times the Leases; the follower process is where we are ahead (section 5)`,
    ]);
  }
  if (oe && ge && oe.leaderProcess.rssMb > ge.leaderProcess.rssMb) {
    rows.push([
      `RSS of a process with ${oe.elections} elections, leader / follower`,
      `${fmtNum(oe.leaderProcess.rssMb, 0)} / ${fmtNum(oe.followerProcess.rssMb, 0)} MB`,
      `${fmtNum(ge.leaderProcess.rssMb, 0)} / ${fmtNum(ge.followerProcess.rssMb, 0)} MB`,
      RUNTIME,
    ]);
  }
}

function targetRows(results: BenchResults, rows: NotAheadRow[]): void {
  const gate = results.gate;
  if (gate && gate.follower.sync.overheadNs > TARGETS.followerSkipNs) {
    const b = gate.followerBreakdown;
    rows.push([
      '`@LeaderOnly` on a follower, per skipped call (sync)',
      fmtNs(gate.follower.sync.overheadNs),
      `leader: ${fmtNs(gate.leader.sync.overheadNs)}`,
      `the skip path's debug log through Nest's \`Logger\` (${fmtNs(b.disabledDebugLogNs)} with logging off); one call per schedule tick`,
    ]);
  }
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'graceful', 'ours', profile);
    if (o && (stat(o.takeoverMs, 'p95') ?? 0) >= TARGETS.gracefulP95Ms) {
      rows.push([
        `Graceful handover p95, ${profile} timings`,
        fmtMs(stat(o.takeoverMs, 'p95')),
        `target < ${fmtMs(TARGETS.gracefulP95Ms)}`,
        'see the individual runs in the raw data',
      ]);
    }
    const c = series(results, 'crash', 'ours', profile);
    const limit = c ? c.profile.leaseDuration + TARGETS.crashSlackMs : 0;
    if (c && (stat(c.fromLastRenewMs, 'max') ?? 0) > limit) {
      rows.push([
        `Crash failover after the last renew, max, ${profile} timings`,
        fmtMs(stat(c.fromLastRenewMs, 'max')),
        `target <= ${fmtMs(limit)}`,
        'see the individual runs in the raw data',
      ]);
    }
  }
}

/** Every place where ours is not ahead, or misses a target, in this run. */
export function whereNotAhead(results: BenchResults): NotAheadRow[] {
  const rows: NotAheadRow[] = [];
  loadRows(results, rows);
  failoverRows(results, rows);
  scaleRows(results, rows);
  targetRows(results, rows);
  rows.push(...rolloutNotAhead(results));
  return rows;
}

/** Section 9: the table, and what the rows have in common. */
export function notAheadSection(results: BenchResults, push: Push): void {
  push('## 9. Where we are not ahead, and why', '');
  const rows = whereNotAhead(results);
  if (rows.length === 0) {
    push('Nowhere in this run.', '');
    return;
  }
  push(table(['', 'ours', 'client-go or target', 'why'], rows), '');
  push(
    'Most rows are the cost of a Node.js process and of a JavaScript client per request, not of the ' +
      'election; after a crash the Lease must expire first, which bounds both implementations alike.',
    '',
  );
}
