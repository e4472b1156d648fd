// Section 2: crash failover.
import { TARGETS } from './derived.js';
import { NAME, fmtMs, fmtSeconds, profileText, stat, table, triple, type Push } from './format.js';
import { series, type BenchResults } from './results.js';

export function crashSection(results: BenchResults, push: Push): void {
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
  const concurrent = results.takeover.find((t) => t.concurrentWith);
  if (concurrent) {
    push(
      `At the ${concurrent.profile.name} timings the two crash series ran at the same time, each on its own Lease, ` +
        `to fit the run into about ${TARGETS.fullRunMinutes} minutes (a run is mostly ` +
        `${fmtSeconds(concurrent.profile.leaseDuration)} of waiting for the Lease to expire).`,
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
