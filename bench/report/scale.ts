// Section 5: many elections in one process, many candidates on one Lease.
import { HANDOVER_BURST_MS, HANDOVER_TAIL_MS } from './derived.js';
import { NAME, fmtMs, fmtNum, fmtSeconds, table, verbs, type Push } from './format.js';
import type { BenchResults } from './results.js';

/** "Default timings" for the default profile. */
const timings = (profile: { name: string }) =>
  `${profile.name[0].toUpperCase()}${profile.name.slice(1)} timings`;

export function scaleSection(results: BenchResults, push: Push): void {
  const { elections, candidates } = results.scale;
  if (elections.length === 0 && candidates.length === 0) return;
  push('## 5. Scale', '');
  if (elections.length > 0) {
    const e0 = elections[0];
    push(
      `### ${e0.elections} elections in one process`,
      '',
      `One process is a candidate on ${e0.elections} Leases and leads all of them; a second process is a candidate on ` +
        `the same ${e0.elections} Leases and follows all of them. ${timings(e0.profile)}; window ${Math.round(e0.windowMs / 1000)} s. ` +
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
        `candidate with its own client and User-Agent). ${timings(c0.profile)}; steady-state window ` +
        `${Math.round(c0.windowMs / 1000)} s. Then the leader is released ${c0.handovers.length} time(s) (SIGUSR1 ` +
        'makes the process stop its leading elector, which releases the Lease), counting the requests of all ' +
        `candidates in the ${fmtSeconds(HANDOVER_BURST_MS)} after the signal.`,
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
}
