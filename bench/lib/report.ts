// REPORT.md from the results of one bench run. Every number in the report comes from `results`;
// the explanations are chosen by comparing the numbers, never written in advance.
import type { Failure, Impl, Profile } from './context.js';
import type { Summary } from './stats.js';
import type { GateResult } from '../scenarios/gate.js';
import type { GroupLoad, LoadResult } from '../scenarios/load.js';
import type { CandidatesScale, ElectionsScale } from '../scenarios/scale.js';
import type { TakeoverKind, TakeoverResult } from '../scenarios/takeover.js';
import type { TimelineResult } from '../scenarios/timeline.js';

export interface BenchResults {
  version: 1;
  mode: 'full' | 'quick';
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: {
    cpuModel: string;
    cores: number;
    memoryGb: number;
    kernel: string;
    node: string;
    go: string;
    kubeApiserver: string;
    etcd: string;
    clientGo: string;
    clientNode: string;
    /** `git rev-parse --short HEAD` at the start (absent in older results). */
    commit?: string;
    loadAverage: { waitedS: number; atStart: number[]; atEnd: number[] };
  };
  takeover: TakeoverResult[];
  load: LoadResult | null;
  gate: GateResult | null;
  scale: { elections: ElectionsScale[]; candidates: CandidatesScale[] };
  timeline: TimelineResult[];
  failures: Failure[];
}

const NAME: Record<Impl, string> = { ours: 'ours', 'client-go': 'client-go' };

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return 'n/a';
  if (Math.abs(ms) < 10) return `${ms.toFixed(1)} ms`;
  if (Math.abs(ms) < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(2)} s`;
}

const fmtNs = (ns: number) =>
  ns < 1_000 ? `${Math.round(ns)} ns` : `${(ns / 1_000).toFixed(2)} µs`;
const fmtRate = (perSecond: number) =>
  perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(1)} M/s`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)} k/s`
      : `${perSecond.toFixed(0)}/s`;
const fmtNum = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits).replace(/\.0+$/, '');
const verbs = (counts: Record<string, number>) =>
  Object.keys(counts).length === 0
    ? 'none'
    : Object.entries(counts)
        .sort()
        .map(([verb, n]) => `${verb} ${n}`)
        .join(', ');
const profileText = (p: Profile) =>
  `${p.leaseDuration / 1000} s / ${p.renewDeadline / 1000} s / ${p.retryPeriod / 1000} s`;
const yesNo = (met: boolean | null) => (met === null ? 'n/a' : met ? 'yes' : '**no**');

/** "12x faster" / "2.1x fewer": how many times `theirs` is `ours`. */
function times(
  ours: number | null | undefined,
  theirs: number | null | undefined,
  word: string,
): string {
  if (ours === null || ours === undefined || theirs === null || theirs === undefined) return 'n/a';
  if (ours <= 0) return theirs > 0 ? `${word} (ours 0)` : 'equal';
  const ratio = theirs / ours;
  if (ratio >= 1) return `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}x ${word}`;
  return `${(1 / ratio).toFixed(1)}x **worse**`;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function series(
  results: BenchResults,
  kind: TakeoverKind,
  impl: Impl,
  profile: Profile['name'],
): TakeoverResult | undefined {
  return results.takeover.find(
    (t) => t.kind === kind && t.impl === impl && t.profile.name === profile,
  );
}

function group(load: LoadResult | null, label: string): GroupLoad | undefined {
  return load?.groups.find((g) => g.label === label);
}

const stat = (s: Summary | null | undefined, key: keyof Summary) => (s ? s[key] : null);

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function renderReport(
  results: BenchResults,
  paths: { json: string; svgs: Record<string, string> },
): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  intro(results, paths, push);
  headline(results, push);
  handoverSection(results, push);
  crashSection(results, push);
  loadSection(results, push);
  gateSection(results, push);
  scaleSection(results, push);
  timelineSection(results, paths, push);
  push('## 7. Where we are not ahead, and why', '');
  const notAhead = whereNotAhead(results);
  push(
    ...(notAhead.length > 0 ? notAhead.map((line) => `- ${line}`) : ['- Nowhere in this run.']),
    '',
  );
  methodSection(results, push);
  if (results.failures.length > 0) {
    push(
      '## Failures in this run',
      '',
      ...results.failures.map(
        (f) => `- ${f.scenario}${f.run ? ` run ${f.run}` : ''}: ${f.reason.split('\n')[0]}`,
      ),
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}

type Push = (...lines: string[]) => void;

function intro(results: BenchResults, paths: { json: string }, push: Push): void {
  const m = results.machine;
  const full = results.mode === 'full';
  push(
    '# Benchmarks: nestjs-kube-leader vs client-go leaderelection',
    '',
    `Generated by \`npm run bench${full ? '' : ' -- --quick'}\` (${results.mode} run) on ${results.startedAt.slice(0, 10)}, ` +
      `${Math.round(results.durationS / 60)} min. Raw data: [${paths.json}](${paths.json}). ` +
      'Reproduce with `npm run bench` (about 20 min) or `npm run bench -- --quick` (smoke run, about 2 min, ' +
      'written to `bench/results/quick/`). Every number below is computed from the raw data by `bench/lib/report.ts`.',
    '',
  );
  if (!full) {
    push(
      '> **Quick (smoke) run**: 2 runs per series at the fast profile only, short windows, small scale. ' +
        'The numbers show that everything works, not how it performs; see `bench/REPORT.md` for the full run.',
      '',
    );
  }
  push(
    '**Machine.** ' +
      `${m.cpuModel}, **${m.cores} cores**, ${m.memoryGb} GB, ${m.kernel}; Node ${m.node}, ${m.go}; ` +
      `kube-apiserver ${m.kubeApiserver} + etcd ${m.etcd} on 127.0.0.1 (RBAC, token auth, audit log of lease requests); ` +
      `client-go ${m.clientGo}; @kubernetes/client-node ${m.clientNode}${m.commit ? `; nestjs-kube-leader at ${m.commit}` : ''}. ` +
      '**All runs share this one machine**: the API server, etcd, every candidate process and the bench itself run ' +
      `on the same ${m.cores} cores, so absolute latencies include local scheduling, and the API server sits on loopback ` +
      '(no network). Load average (1/5/15 min) before the run: ' +
      `${m.loadAverage.atStart.map((l) => l.toFixed(2)).join(' / ')}` +
      (m.loadAverage.waitedS > 0
        ? ` (after waiting ${m.loadAverage.waitedS} s for the 1-minute average to drop to 2.5)`
        : '') +
      `; after: ${m.loadAverage.atEnd.map((l) => l.toFixed(2)).join(' / ')}. Other jobs may have shared the machine during the run; ` +
      'each series records the load average before and after it in the raw data.',
    '',
    '**What runs.** _ours_: the engine and the Lease lock (`LeaderElector` + `KubernetesLeaseLock`) in a Node process ' +
      "of their own (`test/fixtures/candidate.ts`, compiled to JavaScript like a user's build). _client-go_: " +
      '`test/interop/client-go-candidate` (client-go `tools/leaderelection` with `ReleaseOnCancel`, the reference ' +
      'implementation). Both use the same Lease API, the same least-privilege user and the same timings ' +
      '(lease duration / renew deadline / retry period): **default** 15 s / 10 s / 2 s and **fast** 3 s / 2 s / 0.5 s.',
    '',
  );
}

function headline(results: BenchResults, push: Push): void {
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
      'p95 < 300 ms',
      yesNo(p95 === null ? null : p95 < 300),
    ]);
  }
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
      `max <= lease duration + 300 ms (${fmtMs(leaseDuration + 300)})`,
      yesNo(max === null ? null : max <= leaseDuration + 300),
    ]);
  }
  const load = results.load;
  const pairs: [string, string, string][] = [
    ['ours-3', 'go-3', '3 replicas'],
    ['ours-3-renew5s', 'go-3', '3 replicas, ours with `renewInterval: 5000`'],
    ['ours-10', 'go-10', '10 replicas'],
    ['ours-10-renew5s', 'go-10', '10 replicas, ours with `renewInterval: 5000`'],
  ];
  for (const [oursLabel, goLabel, text] of pairs) {
    const o = group(load, oursLabel);
    const g = group(load, goLabel);
    if (!o || !g) continue;
    const ratio = o.totalPerMinute > 0 ? g.totalPerMinute / o.totalPerMinute : Infinity;
    const three = o.replicas === 3;
    rows.push([
      `Lease requests per minute, all candidates, ${text}, default timings`,
      fmtNum(o.totalPerMinute),
      fmtNum(g.totalPerMinute),
      times(o.totalPerMinute, g.totalPerMinute, 'fewer'),
      three ? '>= 4x fewer than client-go' : '',
      three ? yesNo(ratio >= 4) : '',
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
      '< 1 µs per call, 0 API calls',
      yesNo(
        gate.leader.sync.overheadNs < 1_000 && gate.leader.async.overheadNs < 1_000 && calls === 0,
      ),
    ]);
  }
  push(table(['', 'ours', 'client-go', 'ours vs client-go', 'target', 'met'], rows), '');
  push(
    'Ratios are client-go / ours (how many times faster or fewer). Targets are goals we report against, not ' +
      'assertions. Section 7 explains every place where we are not ahead.',
    '',
  );
}

function handoverSection(results: BenchResults, push: Push): void {
  push(
    '## 1. Graceful handover',
    '',
    'Three candidates of one implementation on one Lease. The bench sends SIGTERM to the leader and measures ' +
      'until another candidate reports `started_leading` (its own clock; same machine). The old leader is then ' +
      'replaced by a fresh process, the group settles (every candidate reports the same leader, then 1.5 s at the ' +
      'fast timings, 5 s at the default ones), and the next run starts. Each candidate releases on SIGTERM ' +
      '(ours: `stop()`; client-go: context cancelled with `ReleaseOnCancel`).',
    '',
    takeoverTable(results, 'graceful'),
    '',
  );
  const o =
    series(results, 'graceful', 'ours', 'default') ?? series(results, 'graceful', 'ours', 'fast');
  const g =
    series(results, 'graceful', 'client-go', 'default') ??
    series(results, 'graceful', 'client-go', 'fast');
  if (o && g) {
    push(
      `Ours: the release is one \`get\` and one \`update\`; every follower sees it as a watch event and one of them ` +
        `acquires with one \`update\` (p50 ${fmtMs(stat(o.takeoverMs, 'p50'))} at the ${o.profile.name} timings), ` +
        "whatever the timings. client-go's followers learn about the release only at their next poll, every retry " +
        `period plus up to 1.2x jitter (${fmtMs(g.profile.retryPeriod)} to ${fmtMs(g.profile.retryPeriod * 2.2)} at ` +
        `the ${g.profile.name} timings), so its handover is a random part of that (p50 ${fmtMs(stat(g.takeoverMs, 'p50'))}) ` +
        'and grows with the retry period.',
      '',
    );
  }
}

function takeoverTable(results: BenchResults, kind: TakeoverKind): string {
  const rows = results.takeover
    .filter((t) => t.kind === kind)
    .map((t) => [
      `${t.profile.name} (${profileText(t.profile)})`,
      NAME[t.impl],
      String(t.takeoverMs?.n ?? 0) + (t.failedRuns ? ` (+${t.failedRuns} failed)` : ''),
      fmtMs(stat(t.takeoverMs, 'p50')),
      fmtMs(stat(t.takeoverMs, 'p95')),
      fmtMs(stat(t.takeoverMs, 'max')),
      fmtMs(stat(t.takeoverMs, 'min')),
      fmtMs(stat(t.takeoverMs, 'mean')),
    ]);
  return table(['timings', 'implementation', 'runs', 'p50', 'p95', 'max', 'min', 'mean'], rows);
}

function crashSection(results: BenchResults, push: Push): void {
  push(
    '## 2. Crash failover',
    '',
    'Same rolling group, SIGKILL instead of SIGTERM: the Lease is not released, so another candidate must wait ' +
      "for it to expire. _From SIGKILL_: the signal to the successor's `started_leading`. _From the last renew_: " +
      "from the moment the victim's last successful renew completed on the API server (audit log: the last `update` " +
      "answered 200 that carries the victim's User-Agent) to the successor's `started_leading`. A follower may not " +
      'take over before one lease duration has passed since it saw that renew, so this is at least the lease ' +
      "duration; the excess is the implementation's own delay.",
    '',
  );
  const rows = results.takeover
    .filter((t) => t.kind === 'crash')
    .map((t) => [
      `${t.profile.name} (${profileText(t.profile)})`,
      NAME[t.impl],
      String(t.takeoverMs?.n ?? 0) + (t.failedRuns ? ` (+${t.failedRuns} failed)` : ''),
      triple(t.takeoverMs),
      triple(t.fromLastRenewMs),
      triple(t.beyondLeaseDurationMs),
    ]);
  push(
    table(
      [
        'timings',
        'implementation',
        'runs',
        'from SIGKILL p50 / p95 / max',
        'from the last renew p50 / p95 / max',
        'beyond the lease duration p50 / p95 / max',
      ],
      rows,
    ),
    '',
  );
  if (results.takeover.some((t) => t.concurrentWith)) {
    push(
      'At the default timings the two crash series ran at the same time, each on its own Lease, to fit the run ' +
        'into about 25 minutes (a run is mostly 15 s of waiting for the Lease to expire).',
      '',
    );
  }
  const o = series(results, 'crash', 'ours', 'default') ?? series(results, 'crash', 'ours', 'fast');
  const g =
    series(results, 'crash', 'client-go', 'default') ??
    series(results, 'crash', 'client-go', 'fast');
  if (o && g) {
    push(
      'Ours: every follower sees each renew as a watch event, so its expiry timer fires one lease duration after ' +
        `the last renew (excess p95 ${fmtMs(stat(o.beyondLeaseDurationMs, 'p95'))} at the ${o.profile.name} timings), ` +
        'then it acquires with one `update`. client-go: a follower notices the last renew only at its next poll and ' +
        'the expiry only at a later poll, so up to two polling intervals are added (excess p95 ' +
        `${fmtMs(stat(g.beyondLeaseDurationMs, 'p95'))}). Measured from the SIGKILL, both also lose the part of the ` +
        'lease that had already run since the last renew, the same for both: after a crash, failover is bounded by ' +
        'the lease duration for everyone.',
      '',
    );
  }
  for (const t of results.takeover.filter((x) => x.kind === 'crash')) {
    const early = t.runs.filter(
      (r) => r.fromLastRenewMs !== undefined && r.fromLastRenewMs < t.profile.leaseDuration,
    );
    if (early.length === 0) continue;
    push(
      `**${NAME[t.impl]} took over before the lease duration had passed since the last renew** in ${early.length} ` +
        `of ${t.runs.length} runs at the ${t.profile.name} timings (as early as ` +
        `${fmtMs(Math.min(...early.map((r) => r.fromLastRenewMs!)))} with a ${fmtMs(t.profile.leaseDuration)} lease). ` +
        (t.impl === 'client-go'
          ? 'This is not speed: client-go decides whether the record changed by comparing its JSON form, in which ' +
            '`renewTime` has whole-second precision (`metav1.Time`), so a renewal in the same second as the one ' +
            'before it is not seen as a change, and the expiry is counted from the earlier one. With a retry period ' +
            'under a second, the follower can take over up to a second early, which eats into the margin ' +
            '(lease duration - renew deadline) that keeps a partitioned leader and its successor apart. Ours ' +
            'compares the times exactly.'
          : 'The individual runs are in the raw data.'),
      '',
    );
  }
}

const triple = (s: Summary | null) =>
  `${fmtMs(stat(s, 'p50'))} / ${fmtMs(stat(s, 'p95'))} / ${fmtMs(stat(s, 'max'))}`;

function loadSection(results: BenchResults, push: Push): void {
  const load = results.load;
  if (!load) return;
  push(
    '## 3. API load in steady state',
    '',
    `Groups of candidates of one implementation on one Lease each, all groups at the same time, default ` +
      `timings (${profileText(load.profile)}). After every group settled and ${load.warmupMs / 1000} s of warm-up, ` +
      `requests were counted over ${Math.round((load.groups[0]?.windowMs ?? 0) / 1000)} s **on the server**: the ` +
      'audit log records every lease request with its User-Agent, which each candidate sets to its identity. A ' +
      'watch counts once, when it is opened. Each process also counts its own requests (a wrapping lock for ours, ' +
      'a wrapping `RoundTripper` for client-go); the two counts are compared below. CPU is the average over the ' +
      'window in percent of one core; RSS is read at the end of the window.',
    '',
    table(
      [
        'group',
        'leader renews every',
        'leader req/min (requests in window)',
        'each follower req/min (min / mean / max)',
        'total req/min per Lease',
        'CPU % leader / follower mean',
        'RSS MB leader / follower mean',
      ],
      load.groups.map((g) => [
        `${g.label} (${NAME[g.impl]}, ${g.replicas} replicas)`,
        fmtMs(g.renewInterval),
        `${fmtNum(g.leader.requestsPerMinute)} (${verbs(g.leader.byVerb)})`,
        `${fmtNum(g.followersPerMinute.min)} / ${fmtNum(g.followersPerMinute.mean)} / ${fmtNum(g.followersPerMinute.max)}`,
        fmtNum(g.totalPerMinute),
        `${fmtNum(g.leader.cpuPercent, 2)} / ${fmtNum(mean(g.followers.map((f) => f.cpuPercent ?? 0)), 2)}`,
        `${fmtNum(g.leader.rssMb, 0)} / ${fmtNum(mean(g.followers.map((f) => f.rssMb ?? 0)), 0)}`,
      ]),
    ),
    '',
  );
  const mismatches = load.groups.flatMap((g) =>
    [g.leader, ...g.followers].flatMap((c) => {
      const server = Object.values(c.byVerb).reduce((a, b) => a + b, 0);
      return c.clientCounted === null || Math.abs(c.clientCounted - server) <= 1
        ? []
        : [`${c.identity}: audit ${server}, own counter ${c.clientCounted}`];
    }),
  );
  push(
    mismatches.length === 0
      ? 'Cross-check: for every candidate, its own counter and the audit log agree within 1 request (the counters ' +
          'are read a few milliseconds away from the window edges).'
      : `Cross-check: counters and audit log differ by more than 1 for: ${mismatches.join('; ')}.`,
    '',
  );
  const g = group(load, 'go-3') ?? group(load, 'go-10');
  if (g) {
    push(
      'Ours: the leader renews with one `update` per renew interval (no `get`: the write is based on its own last ' +
        'write); followers hold one watch and send nothing. Their watch is re-opened when the server ends it, every ' +
        '5 to 10 minutes, about 0.1 to 0.2 requests per minute per follower, which a window of this length does not ' +
        'catch. client-go: the leader also sends one `update` per retry period (its optimistic fast path), and every ' +
        'follower sends a `get` every retry period plus up to 1.2x jitter ' +
        `(${fmtNum(g.followersPerMinute.mean)} per minute measured; 60 / (2 s x 1.6) = 18.75 expected). At equal ` +
        "timings the leader's renewals cost the same for both; the difference is the followers' polling, which " +
        'grows with the number of replicas.',
      '',
    );
  }
}

function gateSection(results: BenchResults, push: Push): void {
  const gate = results.gate;
  if (!gate) return;
  const perSecond = (ns: number) => 1e9 / ns;
  const c = gate.leader.calls;
  push(
    '## 4. Cost of the gate',
    '',
    'A Nest application context with `LeaderElectionModule.forRoot()` on the in-memory lock (no API calls once ' +
      'leading, so the loop measures only the gate), and a provider with the same method undecorated and with ' +
      `\`@LeaderOnly()\`, sync and async. Median of ${c.rounds} rounds of ${c.sync.toLocaleString('en-US')} sync / ` +
      `${c.async.toLocaleString('en-US')} awaited async calls after ${c.warmupRounds} warm-up rounds, in a process ` +
      'of its own. Lock calls during the timed loops are counted on the in-memory store. The follower case is a ' +
      'second app whose Lease is held by someone else.',
    '',
    table(
      [
        'instance, method',
        'undecorated',
        '`@LeaderOnly()`',
        'overhead per call',
        'gated calls per second',
        'lock calls in the loops',
      ],
      (['leader', 'follower'] as const).flatMap((side) =>
        (['sync', 'async'] as const).map((kind) => [
          `${side}, ${kind}${side === 'follower' ? ' (call skipped)' : ''}`,
          fmtNs(gate[side][kind].plainNs),
          fmtNs(gate[side][kind].gatedNs),
          fmtNs(gate[side][kind].overheadNs),
          fmtRate(perSecond(gate[side][kind].gatedNs)),
          String(gate[side].lockCallsDuringLoops[kind]),
        ]),
      ),
    ),
    '',
    'A lock-per-call design (what distributed-lock decorators do) makes a round trip to the coordination store ' +
      'on every invocation. Measured here as a `get` and an `update` of a Lease per call, one call after the ' +
      'other, on the local API server:',
    '',
    table(
      [
        'lock per call',
        'calls',
        'time per call',
        'calls per second',
        'API requests per call',
        'vs `@LeaderOnly` on the leader (sync)',
      ],
      (
        [
          [
            '@kubernetes/client-node as is (1.x: a new TLS connection per request)',
            gate.lockPerCall.clientNode,
          ],
          ['raw HTTPS on one kept-alive connection (best case)', gate.lockPerCall.rawKeepAlive],
        ] as const
      ).map(([label, r]) => [
        label,
        String(r.calls),
        fmtMs(r.nsPerCall / 1e6),
        fmtRate(perSecond(r.nsPerCall)),
        String(r.apiRequestsPerCall),
        `${Math.round(r.nsPerCall / gate.leader.sync.gatedNs).toLocaleString('en-US')}x slower`,
      ]),
    ),
    '',
  );
}

function scaleSection(results: BenchResults, push: Push): void {
  const { elections, candidates } = results.scale;
  if (elections.length === 0 && candidates.length === 0) return;
  push('## 5. Scale', '');
  if (elections.length > 0) {
    const e0 = elections[0];
    push(
      `### ${e0.elections} elections in one process`,
      '',
      `One process is a candidate on ${e0.elections} Leases and leads all of them; a second process is a candidate on ` +
        `the same ${e0.elections} Leases and follows all of them. Default timings; window ${Math.round(e0.windowMs / 1000)} s. ` +
        '"Time to lead all" runs from spawning the process (its start-up included) to its last `started_leading`.',
      '',
      table(
        [
          'implementation',
          'process',
          'CPU % (of one core)',
          'RSS MB (peak)',
          'requests/min',
          'requests in window',
          'time to lead all',
        ],
        elections.flatMap((e) =>
          (['leaderProcess', 'followerProcess'] as const).map((key) => [
            NAME[e.impl],
            key === 'leaderProcess' ? `leads ${e.elections}` : `follows ${e.elections}`,
            fmtNum(e[key].cpuPercent, 2),
            `${fmtNum(e[key].rssMb, 0)} (${fmtNum(e[key].peakRssMb, 0)})`,
            fmtNum(e[key].requestsPerMinute),
            verbs(e[key].byVerb),
            key === 'leaderProcess' ? fmtMs(e.timeToLeadAllMs) : '',
          ]),
        ),
      ),
      '',
    );
  }
  if (candidates.length > 0) {
    const c0 = candidates[0];
    push(
      `### ${c0.candidates} candidates on one Lease`,
      '',
      `${c0.candidates} candidates, ${c0.candidates / c0.processes} per process in ${c0.processes} processes (each ` +
        'candidate with its own client and User-Agent). Default timings; steady-state window ' +
        `${Math.round(c0.windowMs / 1000)} s. Then the leader is released ${c0.handovers.length} time(s) (SIGUSR1 ` +
        'makes the process stop its leading elector, which releases the Lease), counting the requests of all ' +
        'candidates in the 3 s after the signal.',
      '',
      table(
        [
          'implementation',
          'CPU % total (per candidate)',
          'RSS MB total (per process)',
          'req/min total',
          'leader',
          'followers together',
          'per follower mean / max',
        ],
        candidates.map((c) => [
          NAME[c.impl],
          `${fmtNum(c.totalCpuPercent, 2)} (${fmtNum(c.totalCpuPercent / c.candidates, 3)})`,
          `${fmtNum(c.totalRssMb, 0)} (${fmtNum(c.totalRssMb / c.processes, 0)})`,
          fmtNum(c.requestsPerMinute.total),
          fmtNum(c.requestsPerMinute.leader),
          fmtNum(c.requestsPerMinute.followersTotal),
          `${fmtNum(c.requestsPerMinute.perFollower.mean, 2)} / ${fmtNum(c.requestsPerMinute.perFollower.max)}`,
        ]),
      ),
      '',
      table(
        [
          'implementation',
          'handover times',
          'requests in the 3 s after each release',
          'of which 409 Conflict',
        ],
        candidates.map((c) => [
          NAME[c.impl],
          c.handovers.map((h) => fmtMs(h.handoverMs)).join(', ') || 'n/a',
          c.handovers.map((h) => `${h.requestsAfter} (${verbs(h.byVerb)})`).join('; ') || 'n/a',
          c.handovers.map((h) => String(h.conflicts)).join(', ') || 'n/a',
        ]),
      ),
      '',
    );
  }
}

function timelineSection(
  results: BenchResults,
  paths: { svgs: Record<string, string> },
  push: Push,
): void {
  if (results.timeline.length === 0) return;
  const t = results.timeline[0];
  push(
    '## 6. Timeline',
    '',
    `Three candidates per implementation, ${t.profile.name} timings (${profileText(t.profile)}): the leader is ` +
      'killed (SIGKILL), then the next leader is stopped (SIGTERM). Bars show who reports leading; the hatched bar ' +
      'is the Lease still held by the killed process; red bands are the time without a leader. Both charts share ' +
      'one time axis. Rendered by `bench/lib/svg.ts`.',
    '',
  );
  for (const r of results.timeline) {
    const file = paths.svgs[r.impl];
    if (file) push(`![Who leads over time: ${NAME[r.impl]}](${file})`, '');
    push(
      r.signals
        .map(
          (s) =>
            `${NAME[r.impl]}: ${s.signal} ${s.identity}, next leader after ${fmtMs(s.nextLeaderAt - s.at)}.`,
        )
        .join(' '),
      '',
    );
  }
}

function methodSection(results: BenchResults, push: Push): void {
  const full = results.mode === 'full';
  push(
    '## 8. Method and limits',
    '',
    '- Percentiles interpolate linearly between the closest ranks; with 10 runs the p95 lies between the 9th and ' +
      'the 10th value, with 20 runs between the 19th and the 20th.',
    "- Times are wall-clock milliseconds of the one machine: the runner's clock when it sends a signal, the " +
      "candidate's clock when it reports `started_leading`, the API server's audit timestamps for renewals.",
    '- Candidates are plain processes on loopback, not pods; the API server is a single local instance with ' +
      'audit logging in blocking mode, which adds a little latency to every request for both implementations alike.',
    full
      ? `- The default-timing series have ${series(results, 'graceful', 'ours', 'default')?.runs.length ?? 0} runs per ` +
          'implementation, not 20, to keep the full run near 25 minutes (a crash run at 15 s / 10 s / 2 s takes about ' +
          `22 s); the fast series have ${series(results, 'graceful', 'ours', 'fast')?.runs.length ?? 0}.`
      : '- Quick run: 2 runs per series, fast timings only.',
    '- The Nest layer is not in the handover, failover and load measurements: it adds no request and no delay to ' +
      'the election (the engine emits, the Nest layer forwards); its per-call cost is measured in section 4.',
    '- Not measured: `@codedependant/kubernetes-leader-election`, which the issue mentions "where it runs": adding ' +
      'it needs a new npm dependency, which this change does not add.',
    '',
  );
}

/** Every comparison where ours is not ahead (or misses a target), with the reason. */
function whereNotAhead(results: BenchResults): string[] {
  const lines: string[] = [];
  const load = results.load;
  const o3 = group(load, 'ours-3');
  const g3 = group(load, 'go-3');
  if (o3 && g3) {
    const ratio = g3.totalPerMinute / o3.totalPerMinute;
    if (ratio < 4) {
      const r5 = group(load, 'ours-3-renew5s');
      lines.push(
        `**Lease requests with 3 replicas at equal timings: ${ratio.toFixed(1)}x fewer, not 4x** ` +
          `(${fmtNum(o3.totalPerMinute)} vs ${fmtNum(g3.totalPerMinute)} per minute). Our followers send nothing, but ` +
          `our leader renews every retry period exactly as client-go's does (${fmtNum(o3.leader.requestsPerMinute)} vs ` +
          `${fmtNum(g3.leader.requestsPerMinute)} per minute), and with two followers the leader's renewals are most ` +
          'of the load: at these timings the ratio cannot exceed 1 + 2 x 18.75 / 30 = 2.25 (two followers polling ' +
          '18.75 times a minute against 30 renewals). ' +
          (r5
            ? 'With `renewInterval: 5000` (the leader renews every 5 s instead of 2 s, well inside the 10 s renew ' +
              `deadline) the same group makes ${fmtNum(r5.totalPerMinute)} requests per minute, ` +
              `${(g3.totalPerMinute / r5.totalPerMinute).toFixed(1)}x fewer than client-go; the price is fewer ` +
              'retries (one per retry period) between a failed renew and the renew deadline. '
            : '') +
          'With 10 replicas the followers dominate and the ratio grows with the replica count (section 3).',
      );
    }
  }
  const followerMean = (label: string, key: 'rssMb' | 'cpuPercent') => {
    const g = group(load, label);
    return g ? mean(g.followers.map((f) => f[key] ?? 0)) : Number.NaN;
  };
  if (followerMean('ours-3', 'rssMb') > followerMean('go-3', 'rssMb')) {
    lines.push(
      `**Memory per candidate process**: an idle follower of ours takes ${fmtNum(followerMean('ours-3', 'rssMb'), 0)} MB ` +
        `RSS, a client-go follower ${fmtNum(followerMean('go-3', 'rssMb'), 0)} MB. This is the Node.js runtime with ` +
        '@kubernetes/client-node loaded, not the election; in a real deployment the election lives in the Nest ' +
        'app, which pays for the runtime anyway.',
    );
  }
  if (followerMean('ours-3', 'cpuPercent') > followerMean('go-3', 'cpuPercent')) {
    lines.push(
      `**CPU of an idle follower**: ours ${fmtNum(followerMean('ours-3', 'cpuPercent'), 2)} %, client-go ` +
        `${fmtNum(followerMean('go-3', 'cpuPercent'), 2)} % of one core, although ours sends no requests: the Node ` +
        "runtime's own background work costs more than a Go program polling every few seconds. Both are negligible.",
    );
  }
  if (o3 && g3 && (o3.leader.cpuPercent ?? 0) > (g3.leader.cpuPercent ?? 0)) {
    lines.push(
      `**CPU of the leader**: ours ${fmtNum(o3.leader.cpuPercent, 2)} %, client-go ${fmtNum(g3.leader.cpuPercent, 2)} % ` +
        `of one core for the same ${fmtNum(o3.leader.requestsPerMinute, 0)} renewals per minute: a request through ` +
        '@kubernetes/client-node (generated client, middleware, JSON, all in JavaScript) costs more CPU than one ' +
        'through client-go. Both are a fraction of a percent per Lease; section 5 shows it at many Leases.',
    );
  }
  const slowCrash = (['default', 'fast'] as const).flatMap((profile) => {
    const o = series(results, 'crash', 'ours', profile);
    const g = series(results, 'crash', 'client-go', profile);
    if (!o || !g) return [];
    const ratio = (stat(g.takeoverMs, 'p50') ?? 0) / (stat(o.takeoverMs, 'p50') ?? 1);
    return ratio < 1.5 ? [{ profile, o, g, ratio }] : [];
  });
  if (slowCrash.length > 0) {
    lines.push(
      '**Crash failover measured from the SIGKILL**: ' +
        slowCrash
          .map(
            ({ profile, o, g, ratio }) =>
              `p50 ${fmtMs(stat(o.takeoverMs, 'p50'))} vs ${fmtMs(stat(g.takeoverMs, 'p50'))} at the ${profile} timings ` +
              `(${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : 'not faster'}; excess over the lease duration p95 ` +
              `${fmtMs(stat(o.beyondLeaseDurationMs, 'p95'))} vs ${fmtMs(stat(g.beyondLeaseDurationMs, 'p95'))})`,
          )
          .join(', ') +
        '. After a crash nobody may take over before the Lease expires (that is what keeps two leaders apart), ' +
        "so both wait about one lease duration after the last renew; we save only client-go's polling delay on " +
        'top of it. A shorter lease duration is the only lever, for both.',
    );
  }
  const oc = results.scale.candidates.find((c) => c.impl === 'ours');
  const gc = results.scale.candidates.find((c) => c.impl === 'client-go');
  if (oc && gc && oc.handovers.length > 0 && gc.handovers.length > 0) {
    const median = (values: number[]) => {
      const sorted = [...values].sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const oursMs = median(oc.handovers.map((h) => h.handoverMs));
    const theirsMs = median(gc.handovers.map((h) => h.handoverMs));
    const small = series(results, 'graceful', 'ours', 'default');
    const burst = mean(oc.handovers.map((h) => h.requestsAfter));
    if (oursMs >= theirsMs) {
      lines.push(
        `**Graceful handover with ${oc.candidates} candidates**: median ${fmtMs(oursMs)} for ours against ` +
          `${fmtMs(theirsMs)} for client-go (${oc.handovers.length} handovers each), so not faster at this size. ` +
          `With ${gc.candidates - 1} followers each polling every 2 to 4.4 s, one of client-go's polls falls within ` +
          'tens of milliseconds of the release. All of ours act on the same watch event at once: ' +
          `about ${fmtNum(mean(oc.handovers.map((h) => h.conflicts)), 0)} of the ${oc.candidates - 1} simultaneous updates ` +
          'fail with 409 Conflict and are followed by a read, and the winning update most likely queues among them ' +
          'on the API server and the 2 cores' +
          (small
            ? ` (with 3 candidates the same handover takes ${fmtMs(stat(small.takeoverMs, 'p50'))} at the median)`
            : '') +
          '. A short random delay before a follower tries (not measured here) would probably remove most of that ' +
          'contention.',
      );
    }
    lines.push(
      `**Request burst at a handover with ${oc.candidates} candidates**: ours sends ${fmtNum(burst, 0)} requests in the ` +
        `3 s after a release (${fmtNum(mean(oc.handovers.map((h) => h.conflicts)), 0)} of them answered 409 Conflict), ` +
        `about two per follower, all within milliseconds. client-go's ${fmtNum(mean(gc.handovers.map((h) => h.requestsAfter)), 0)} ` +
        'requests in the same 3 s are just its ordinary polling: it sends as many every 3 s, handover or not ' +
        `(${fmtNum(gc.requestsPerMinute.total, 0)} per minute in steady state against our ${fmtNum(oc.requestsPerMinute.total, 0)}). ` +
        'So the burst is a spike, once per handover, not extra load over time.',
    );
  }
  const oe = results.scale.elections.find((e) => e.impl === 'ours');
  const ge = results.scale.elections.find((e) => e.impl === 'client-go');
  if (oe && ge) {
    if (oe.leaderProcess.cpuPercent > ge.leaderProcess.cpuPercent) {
      lines.push(
        `**CPU of a process leading ${oe.elections} elections**: ours ${fmtNum(oe.leaderProcess.cpuPercent, 1)} %, ` +
          `client-go ${fmtNum(ge.leaderProcess.cpuPercent, 1)} % of one core, for ` +
          `${fmtNum(oe.leaderProcess.requestsPerMinute, 0)} vs ${fmtNum(ge.leaderProcess.requestsPerMinute, 0)} ` +
          'renewals per minute: the per-request cost of the JavaScript client stack, times the number of Leases. ' +
          `The follower process is where we are ahead: ours sent ${fmtNum(oe.followerProcess.requestsPerMinute, 0)} ` +
          `requests per minute for ${oe.elections} Leases (${fmtNum(oe.followerProcess.cpuPercent, 1)} % CPU), client-go's ` +
          `${fmtNum(ge.followerProcess.requestsPerMinute, 0)} (${fmtNum(ge.followerProcess.cpuPercent, 1)} % CPU).`,
      );
    }
    if (oe.leaderProcess.rssMb > ge.leaderProcess.rssMb) {
      lines.push(
        `**Memory of a process with ${oe.elections} elections**: ours ${fmtNum(oe.leaderProcess.rssMb, 0)} MB (leader) / ` +
          `${fmtNum(oe.followerProcess.rssMb, 0)} MB (follower, ${oe.elections} open watches), client-go ` +
          `${fmtNum(ge.leaderProcess.rssMb, 0)} / ${fmtNum(ge.followerProcess.rssMb, 0)} MB: mostly the Node runtime, ` +
          'as above.',
      );
    }
  }
  const gate = results.gate;
  if (gate && gate.follower.sync.overheadNs > 500) {
    const b = gate.followerBreakdown;
    lines.push(
      `**The gate on a follower** costs ${fmtNs(gate.follower.sync.overheadNs)} per skipped call (sync), more than on ` +
        `the leader (${fmtNs(gate.leader.sync.overheadNs)})` +
        `${gate.follower.sync.overheadNs >= 1_000 ? ', above the 1 µs target' : ''}. The skip path checks whether ` +
        `the method is a request handler (three reflect-metadata lookups: ${fmtNs(b.handlerCheckNs)} timed alone), ` +
        `logs at debug level through Nest's \`Logger\` (${fmtNs(b.disabledDebugLogNs)} even with logging off) and ` +
        `reads the leader (${fmtNs(b.getLeaderNs)}). A follower skips one call per schedule tick, so this does not ` +
        'matter in practice; caching the handler check per method and not calling the logger when debug logging is ' +
        "off would bring it close to the leader's cost.",
    );
  }
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'graceful', 'ours', profile);
    if (o && (stat(o.takeoverMs, 'p95') ?? 0) >= 300) {
      lines.push(
        `**Graceful handover p95 at the ${profile} timings is ${fmtMs(stat(o.takeoverMs, 'p95'))}**, above the 300 ms ` +
          `target (max ${fmtMs(stat(o.takeoverMs, 'max'))}); the individual runs are in the raw data.`,
      );
    }
    const c = series(results, 'crash', 'ours', profile);
    if (c && (stat(c.fromLastRenewMs, 'max') ?? 0) > c.profile.leaseDuration + 300) {
      lines.push(
        `**Crash failover at the ${profile} timings exceeded lease duration + 300 ms** in some runs (max ` +
          `${fmtMs(stat(c.fromLastRenewMs, 'max'))} after the last renew, lease ${fmtMs(c.profile.leaseDuration)}); ` +
          'the individual runs are in the raw data.',
      );
    }
  }
  return lines;
}
