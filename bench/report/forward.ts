// Reaching the leader during rolling updates (`--only forward`): followers forwarding requests to the
// leader, against a client that retries 503s on the other replicas.
import { table, type Push } from './format.js';
import type { BenchResults } from './results.js';

const VARIANT = {
  forward: 'forwarding (`@LeaderOnly({ forward: true })`), one attempt per request',
  'retry-503':
    '503 only (`@LeaderOnly()`), the client retries a 503 on the next replica (3 attempts)',
};

export function forwardSection(results: BenchResults, push: Push): void {
  const forward = results.forward;
  if (!forward) {
    push(
      '## Forwarding to the leader',
      '',
      'Not run (or the scenario failed: see the failures).',
      '',
    );
    return;
  }
  const { plan } = forward;
  push(
    '## Forwarding to the leader',
    '',
    `Three Nest apps (Express, in one process, on 127.0.0.2-4, fast timings) and ${plan.clients} ` +
      `client loops, each sending a request to the replicas in turn every ${plan.paceMs} ms, through ` +
      `${plan.rollouts} rolling update(s) of the three replicas (a new replica on each address, then the ` +
      'old one closed gracefully, the leader among them). A request failed when its last answer was ' +
      'not a 200. Guide: [Forwarding](../docs/forwarding.md).',
    '',
    table(
      [
        'how the leader is reached',
        'requests',
        'failed',
        'extra attempts',
        'ran twice',
        'ran on a follower',
        'leader changes',
      ],
      forward.rows.map((row) => [
        VARIANT[row.variant],
        String(row.requests),
        `${row.failed}${row.failed > 0 ? ` (${statuses(row.failedBy)})` : ''}`,
        String(row.extraAttempts),
        String(row.ranTwice),
        String(row.ranOnFollower),
        String(row.leaderChanges),
      ]),
    ),
    '',
  );
}

/** `503: 4, 504: 1`: the failed requests by their last status. */
function statuses(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([status, count]) => `${status === '-1' ? 'no answer' : status}: ${count}`)
    .join(', ');
}
