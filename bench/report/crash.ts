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
  explainCrash(results, push);
  earlyTakeovers(results, push);
}

/** When each implementation's followers notice the last renew and the expiry. */
function explainCrash(results: BenchResults, push: Push): void {
  const o = series(results, 'crash', 'ours', 'default') ?? series(results, 'crash', 'ours', 'fast');
  const g =
    series(results, 'crash', 'client-go', 'default') ??
    series(results, 'crash', 'client-go', 'fast');
  if (!o || !g) return;
  push(
    table(
      [
        'implementation',
        'a follower sees the last renew',
        'and the expiry',
        'added to the lease duration',
        'excess p95',
      ],
      [
        [
          NAME.ours,
          'as a watch event',
          'its timer, one lease duration later',
          'the acquiring `update`',
          `${fmtMs(stat(o.beyondLeaseDurationMs, 'p95'))} (${o.profile.name})`,
        ],
        [
          NAME['client-go'],
          'at its next poll',
          'at a later poll',
          'up to two polling intervals',
          `${fmtMs(stat(g.beyondLeaseDurationMs, 'p95'))} (${g.profile.name})`,
        ],
      ],
    ),
    '',
    'Measured from the SIGKILL, both also lose the part of the lease that had already run since the last ' +
      'renew: after a crash, failover is bounded by the lease duration for everyone.',
    '',
  );
}

/** Series in which a follower took over before one lease duration had passed since the last renew. */
function earlyTakeovers(results: BenchResults, push: Push): void {
  const rows = results.takeover
    .filter((t) => t.kind === 'crash')
    .flatMap((t) => {
      const early = t.runs.filter(
        (r) => r.fromLastRenewMs !== undefined && r.fromLastRenewMs < t.profile.leaseDuration,
      );
      if (early.length === 0) return [];
      return [
        [
          NAME[t.impl],
          t.profile.name,
          `${early.length} of ${t.runs.length}`,
          fmtMs(Math.min(...early.map((r) => r.fromLastRenewMs!))),
          fmtMs(t.profile.leaseDuration),
        ],
      ];
    });
  if (rows.length === 0) return;
  push(
    '**Taken over before the lease duration had passed since the last renew:**',
    '',
    table(
      ['implementation', 'timings', 'runs', 'earliest after the last renew', 'lease duration'],
      rows,
    ),
    '',
    rows.some((r) => r[0] === NAME['client-go'])
      ? 'This is not speed: client-go decides whether the record changed by comparing its JSON form, in which ' +
          '`renewTime` has whole-second precision (`metav1.Time`), so a renewal in the same second as the one ' +
          'before it is not seen as a change and the expiry is counted from the earlier one. With a retry period ' +
          'under a second this eats into the margin (lease duration - renew deadline) that keeps a partitioned ' +
          'leader and its successor apart. Ours compares the times exactly.'
      : 'The individual runs are in the raw data.',
    '',
  );
}
