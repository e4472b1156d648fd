// Section 3: API load in steady state.
import { JITTER_FACTOR, WATCH_REOPEN, pollInterval, pollsPerMinute } from './derived.js';
import {
  NAME,
  fmtExact,
  fmtMs,
  fmtNum,
  fmtSeconds,
  mean,
  profileText,
  table,
  verbs,
  type Push,
} from './format.js';
import { group, type BenchResults } from './results.js';

/** How far a candidate's own request count may be from the audit log's (read at the window edges). */
const COUNTER_TOLERANCE = 1;

export function loadSection(results: BenchResults, push: Push): void {
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
      return c.clientCounted === null || Math.abs(c.clientCounted - server) <= COUNTER_TOLERANCE
        ? []
        : [`${c.identity}: audit ${server}, own counter ${c.clientCounted}`];
    }),
  );
  push(
    mismatches.length === 0
      ? `Cross-check: for every candidate, its own counter and the audit log agree within ${COUNTER_TOLERANCE} ` +
          'request (the counters are read a few milliseconds away from the window edges).'
      : `Cross-check: counters and audit log differ by more than ${COUNTER_TOLERANCE} for: ${mismatches.join('; ')}.`,
    '',
  );
  explainLoad(load, push);
}

/** What each role of each implementation sends per minute, by design and as measured. */
function explainLoad(load: NonNullable<BenchResults['load']>, push: Push): void {
  const o = group(load, 'ours-3') ?? group(load, 'ours-10');
  const g = group(load, 'go-3') ?? group(load, 'go-10');
  if (!o || !g) return;
  const poll = pollInterval(load.profile);
  const perMinute = (intervalMs: number) => fmtExact(60_000 / intervalMs);
  push(
    table(
      [
        'implementation',
        'role',
        'sends',
        'expected per minute',
        `measured per minute (${o.label} / ${g.label})`,
      ],
      [
        [
          NAME.ours,
          'leader',
          `one \`update\` per renew interval (${fmtMs(o.renewInterval)}), based on its own last write: no \`get\``,
          perMinute(o.renewInterval),
          fmtNum(o.leader.requestsPerMinute),
        ],
        [
          NAME.ours,
          'follower',
          `one watch, re-opened when the server ends it (every ${fmtExact(WATCH_REOPEN.minMinutes)} to ${fmtExact(WATCH_REOPEN.maxMinutes)} min)`,
          `${fmtExact(WATCH_REOPEN.minPerMinute)} to ${fmtExact(WATCH_REOPEN.maxPerMinute)}`,
          fmtNum(o.followersPerMinute.mean),
        ],
        [
          NAME['client-go'],
          'leader',
          `one \`update\` per retry period (${fmtSeconds(load.profile.retryPeriod)}, its optimistic fast path)`,
          perMinute(load.profile.retryPeriod),
          fmtNum(g.leader.requestsPerMinute),
        ],
        [
          NAME['client-go'],
          'follower',
          `one \`get\` per retry period + up to ${fmtExact(JITTER_FACTOR)}x jitter (mean ${fmtSeconds(poll.mean)})`,
          fmtExact(pollsPerMinute(load.profile)),
          fmtNum(g.followersPerMinute.mean),
        ],
      ],
    ),
    '',
    "A window of this length rarely catches our followers' watch re-opens. At equal timings the leader's " +
      "renewals cost the same for both; the difference is the followers' polling, which grows with the number " +
      'of replicas.',
    '',
  );
}
