// Headline: the key comparisons against their targets.
import { HANDOVER_TAIL_MS, TARGETS } from './derived.js';
import { fmtExact, fmtMs, fmtNs, fmtNum, stat, table, times, yesNo, type Push } from './format.js';
import { group, series, type BenchResults } from './results.js';

/** Handover latency and requests per handover, 3 candidates (section 1) and many (section 5). */
function herdRows(results: BenchResults, rows: string[][]): void {
  const requests = (runs: { requests?: { total: number } }[]) =>
    runs.flatMap((r) => (r.requests ? [r.requests.total] : []));
  const o3 = series(results, 'graceful', 'ours', 'default');
  const g3 = series(results, 'graceful', 'client-go', 'default');
  const small = o3 ? requests(o3.runs) : [];
  if (o3 && small.length > 0) {
    const theirs = g3 ? requests(g3.runs) : [];
    rows.push([
      `Lease requests per graceful handover, 3 candidates (max over runs; signal to ${HANDOVER_TAIL_MS} ms after the new leader)`,
      fmtNum(Math.max(...small)),
      theirs.length > 0 ? fmtNum(Math.max(...theirs)) : 'n/a',
      '',
      '',
      '',
    ]);
  }
  const oc = results.scale.candidates.find((c) => c.impl === 'ours');
  const gc = results.scale.candidates.find((c) => c.impl === 'client-go');
  if (!oc || oc.handovers.length === 0) return;
  const p95 = stat(oc.handoverMs, 'p95');
  rows.push([
    `Graceful handover p95 with ${oc.candidates} candidates (handovers: ${oc.handovers.length} / ${gc?.handovers.length ?? 0})`,
    fmtMs(p95),
    fmtMs(stat(gc?.handoverMs, 'p95')),
    times(p95, stat(gc?.handoverMs, 'p95'), 'faster'),
    `p95 < ${fmtMs(TARGETS.herdP95Ms)}`,
    yesNo(p95 === null ? null : p95 < TARGETS.herdP95Ms),
  ]);
  // The herd: every request but the release (the old leader's one update).
  const most = Math.max(...oc.handovers.map((h) => (h.requests ? h.requests.total - 1 : Infinity)));
  const theirs = gc?.handovers.flatMap((h) => (h.requests ? [h.requests.total] : [])) ?? [];
  rows.push([
    `Lease requests of the followers per graceful handover, ${oc.candidates} candidates (max over handovers; the release excluded; signal to ${HANDOVER_TAIL_MS} ms after the new leader)`,
    fmtNum(most),
    theirs.length > 0 ? fmtNum(Math.max(...theirs) - 1) : 'n/a',
    '',
    `<= ${TARGETS.herdRequests}`,
    yesNo(Number.isFinite(most) ? most <= TARGETS.herdRequests : null),
  ]);
}

export function headline(results: BenchResults, push: Push): void {
  push('## Headline', '');
  const rows: string[][] = [];
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'graceful', 'ours', profile);
    const g = series(results, 'graceful', 'client-go', profile);
    if (!o && !g) continue;
    const p95 = stat(o?.takeoverMs, 'p95');
    rows.push([
      `Graceful handover p95, ${profile} timings (runs: ${o?.takeoverMs?.n ?? 0} / ${g?.takeoverMs?.n ?? 0})`,
      fmtMs(p95),
      fmtMs(stat(g?.takeoverMs, 'p95')),
      times(p95, stat(g?.takeoverMs, 'p95'), 'faster'),
      `p95 < ${fmtMs(TARGETS.gracefulP95Ms)}`,
      yesNo(p95 === null ? null : p95 < TARGETS.gracefulP95Ms),
    ]);
  }
  herdRows(results, rows);
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'crash', 'ours', profile);
    const g = series(results, 'crash', 'client-go', profile);
    if (!o && !g) continue;
    const leaseDuration = (o ?? g)!.profile.leaseDuration;
    const max = stat(o?.fromLastRenewMs, 'max');
    rows.push([
      `Crash failover after the last renew, p95 (max), ${profile} timings (runs: ${o?.fromLastRenewMs?.n ?? 0} / ${g?.fromLastRenewMs?.n ?? 0})`,
      `${fmtMs(stat(o?.fromLastRenewMs, 'p95'))} (${fmtMs(max)})`,
      `${fmtMs(stat(g?.fromLastRenewMs, 'p95'))} (${fmtMs(stat(g?.fromLastRenewMs, 'max'))})`,
      times(stat(o?.fromLastRenewMs, 'p95'), stat(g?.fromLastRenewMs, 'p95'), 'faster'),
      `max <= lease duration + ${fmtMs(TARGETS.crashSlackMs)} (${fmtMs(leaseDuration + TARGETS.crashSlackMs)})`,
      yesNo(max === null ? null : max <= leaseDuration + TARGETS.crashSlackMs),
    ]);
  }
  const load = results.load;
  const pairs: [string, string][] = [
    ['ours-3', 'go-3'],
    ['ours-10', 'go-10'],
  ];
  for (const [oursLabel, goLabel] of pairs) {
    const o = group(load, oursLabel);
    const g = group(load, goLabel);
    if (!o || !g) continue;
    const ratio = o.totalPerMinute > 0 ? g.totalPerMinute / o.totalPerMinute : Infinity;
    const three = o.replicas === 3;
    rows.push([
      `Lease requests per minute, all candidates, ${o.replicas} replicas, default timings`,
      fmtNum(o.totalPerMinute),
      fmtNum(g.totalPerMinute),
      times(o.totalPerMinute, g.totalPerMinute, 'fewer'),
      three ? `>= ${TARGETS.fewerRequests}x fewer than client-go` : '',
      three ? yesNo(ratio >= TARGETS.fewerRequests) : '',
    ]);
  }
  const oursFollowers = ['ours-3', 'ours-10'].flatMap((l) => group(load, l)?.followers ?? []);
  const goFollowers = ['go-3', 'go-10'].flatMap((l) => group(load, l)?.followers ?? []);
  if (oursFollowers.length > 0 && goFollowers.length > 0) {
    const maxOurs = Math.max(...oursFollowers.map((f) => f.requestsPerMinute));
    rows.push([
      'Requests per minute of a follower in steady state (max over all followers)',
      fmtNum(maxOurs),
      fmtNum(Math.max(...goFollowers.map((f) => f.requestsPerMinute))),
      '',
      '0 (no polling)',
      yesNo(maxOurs === 0),
    ]);
  }
  const gate = results.gate;
  if (gate) {
    const calls = gate.leader.lockCallsDuringLoops.sync + gate.leader.lockCallsDuringLoops.async;
    rows.push([
      '`@LeaderOnly` overhead per call on the leader (sync method; async method)',
      `${fmtNs(gate.leader.sync.overheadNs)}; ${fmtNs(gate.leader.async.overheadNs)}; ${calls} API calls`,
      'n/a (no gate)',
      `a lock per call (GET + PUT): ${fmtMs(gate.lockPerCall.rawKeepAlive.nsPerCall / 1e6)} per call`,
      `< ${fmtExact(TARGETS.gateOverheadNs / 1000)} µs per call, 0 API calls`,
      yesNo(
        gate.leader.sync.overheadNs < TARGETS.gateOverheadNs &&
          gate.leader.async.overheadNs < TARGETS.gateOverheadNs &&
          calls === 0,
      ),
    ]);
  }
  push(table(['', 'ours', 'client-go', 'ours vs client-go', 'target', 'met'], rows), '');
  push(
    'Ratios are client-go / ours (how many times faster or fewer). Targets are goals we report against, not ' +
      'assertions. Section 9 explains every place where we are not ahead.',
    '',
  );
}
