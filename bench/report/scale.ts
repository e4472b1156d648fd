// Section 5: many elections in one process, many candidates on one Lease.
import { HANDOVER_BURST_MS, HANDOVER_TAIL_MS } from './derived.js';
import { NAME, fmtMs, fmtNum, fmtSeconds, profileText, table, verbs, type Push } from './format.js';
import type { BenchResults } from './results.js';

export function scaleSection(results: BenchResults, push: Push): void {
  const { elections, candidates } = results.scale;
  if (elections.length === 0 && candidates.length === 0) return;
  push('## 5. Scale', '');
  if (elections.length > 0) electionsSubsection(elections, push);
  if (candidates.length > 0) candidatesSubsection(candidates, push);
}

type Scale = BenchResults['scale'];

/** Many elections in one process: the setup and each process's cost. */
function electionsSubsection(elections: Scale['elections'], push: Push): void {
  const e0 = elections[0];
  push(
    `### ${e0.elections} elections in one process`,
    '',
    'One process is a candidate on every Lease and leads them all; a second process is a candidate on the ' +
      'same Leases and follows them all. _Time to lead all_ runs from spawning the process (its start-up ' +
      'included) to its last `started_leading`.',
    '',
    table(
      ['Leases', 'timings', 'window'],
      [
        [
          String(e0.elections),
          `${e0.profile.name} (${profileText(e0.profile)})`,
          `${Math.round(e0.windowMs / 1000)} s`,
        ],
      ],
    ),
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

/** Many candidates on one Lease: the setup, the steady state and the handovers. */
function candidatesSubsection(candidates: Scale['candidates'], push: Push): void {
  const c0 = candidates[0];
  push(
    `### ${c0.candidates} candidates on one Lease`,
    '',
    'Each candidate has its own client and User-Agent. After the steady-state window the leader is released ' +
      'again and again (SIGUSR1 makes the process stop its leading elector, which releases the Lease), ' +
      'counting the requests of all candidates after each signal.',
    '',
    table(
      [
        'candidates',
        'processes',
        'timings',
        'steady-state window',
        'releases',
        'requests counted for',
      ],
      [
        [
          String(c0.candidates),
          `${c0.processes} (${c0.candidates / c0.processes} candidates each)`,
          `${c0.profile.name} (${profileText(c0.profile)})`,
          `${Math.round(c0.windowMs / 1000)} s`,
          String(c0.handovers.length),
          `${fmtSeconds(HANDOVER_BURST_MS)} after each signal`,
        ],
      ],
    ),
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
        `requests in the handover (signal to ${HANDOVER_TAIL_MS} ms after the new leader)`,
        `requests in the ${fmtSeconds(HANDOVER_BURST_MS)} after each release`,
        'of which 409 Conflict',
      ],
      candidates.map((c) => [
        NAME[c.impl],
        c.handovers.map((h) => fmtMs(h.handoverMs)).join(', ') || 'n/a',
        c.handovers
          .map((h) => (h.requests ? `${h.requests.total} (${verbs(h.requests.byVerb)})` : 'n/a'))
          .join('; ') || 'n/a',
        c.handovers.map((h) => `${h.requestsAfter} (${verbs(h.byVerb)})`).join('; ') || 'n/a',
        c.handovers.map((h) => String(h.conflicts)).join(', ') || 'n/a',
      ]),
    ),
    '',
  );
}
