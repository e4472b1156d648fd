// The Node peer's rows (`--only peer`): @codedependant/kubernetes-leader-election beside client-go.
import { fmtMs, NAME, profileText, table, type Push } from './format.js';
import { takeoverTable } from './handover.js';
import type { BenchResults } from './results.js';

/** Where a failed takeover run's reason goes on to the candidates' last lines (scenarios/takeover.ts). */
const LAST_EVENTS = '; last events:';

export function peerSection(results: BenchResults, push: Push): void {
  const peer = results.peer;
  if (!peer) {
    push('## The Node peer', '', 'Not run (or the scenario failed: see the failures).', '');
    return;
  }
  const rows = { ...results, takeover: peer.takeover };
  push(
    '## The Node peer',
    '',
    `\`@codedependant/kubernetes-leader-election\` ${peer.packageVersion} (on @kubernetes/client-node ` +
      `${peer.clientNode}, its own install in bench/peers/codedependant/) beside client-go, three ` +
      'candidates per Lease. Its requests carry no identity (the library takes no User-Agent), so they ' +
      'are counted by Lease. Failed runs are listed below with what stopped them; what the library ' +
      'allows, and why its runs fail, is in bench/README.md ("The Node peer").',
    '',
    '### Graceful handover (SIGTERM to the leader)',
    '',
    takeoverTable(rows, 'graceful'),
    '',
    '### Crash failover (SIGKILL to the leader)',
    '',
    takeoverTable(rows, 'crash'),
    '',
    '### Steady-state API load (requests on the Lease, 3 candidates)',
    '',
    table(
      [
        'implementation',
        'timings',
        'window',
        'requests/min',
        'in the window, by verb',
        'collection watches since start',
      ],
      peer.load.map((l) => [
        NAME[l.impl],
        profileText(l.profile),
        fmtMs(l.windowMs),
        String(l.perMinute),
        Object.entries(l.byVerb)
          .map(([verb, n]) => `${verb} ${n}`)
          .join(', '),
        String(l.collectionWatches),
      ]),
    ),
    '',
    '### Paused leader (SIGSTOP for two lease durations, then SIGCONT)',
    '',
    table(
      [
        'implementation',
        'run',
        'paused',
        'taken over after',
        'leaders at once after resume',
        'paused one stops after',
      ],
      peer.pause.map((p) => [
        NAME[p.impl],
        String(p.run),
        fmtMs(p.pausedMs),
        p.takeoverMs === null ? 'not taken over' : fmtMs(p.takeoverMs),
        String(p.maxLeadersAfterResume),
        p.pausedStoppedMs === null ? 'never (in 10 s)' : fmtMs(p.pausedStoppedMs),
      ]),
    ),
    '',
    '### What stopped a run',
    '',
    ...(peer.findings.length === 0
      ? ['Nothing.']
      : peer.findings.map(
          (f) =>
            `- ${f.scenario}${f.run ? ` run ${f.run}` : ''}: ${f.reason.split(LAST_EVENTS)[0].split('\n')[0]}`,
        )),
    ...(peer.findings.some((f) => f.reason.includes(LAST_EVENTS))
      ? ['', "Each candidate's last lines at the failure are in the raw data (`findings`).", '']
      : []),
    '',
  );
}
