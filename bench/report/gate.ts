// Section 4: cost of the `@LeaderOnly` gate.
import { fmtMs, fmtNs, fmtRate, table, type Push } from './format.js';
import type { BenchResults } from './results.js';

export function gateSection(results: BenchResults, push: Push): void {
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
          ...(gate.lockPerCall.confirmed
            ? [
                [
                  'ours, `@LeaderOnly({ confirm: true })`: one renew per call',
                  gate.lockPerCall.confirmed,
                ] as const,
              ]
            : []),
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
