// The HA run's table (`npm run test:chaos -- --ha`): per fault kind and balancer mode, the
// leaderless time of ours and of client-go's election (p50 / max), the Lease requests per fault
// of each, the etcd leader changes seen and the watch resumes answered 504.
import { HA_FAULTS } from './fault-kinds.js';
import type { ChaosReport } from './runner/chaos-report.js';

/** A run that could not start (its control plane or replicas): reported as a run without recovery. */
export function haRunFailed(seed: number, error: unknown): ChaosReport {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`seed ${seed}: ${message}\n`);
  return {
    seed,
    faults: [],
    overlapMs: 0,
    unexpectedOverlapMs: 0,
    overlapCases: [],
    cron: { doubled: [], lost: [], lostDuringFaults: 0, lostOutsideFaults: 0 },
    missedChanges: 0,
    unreleased: 0,
    totalWorkRuns: 0,
    outDir: '',
    error: `did not start: ${message.split('\n')[0]}`,
  };
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};

export function renderHa(reports: ChaosReport[]): string {
  const lines = [
    '## HA shape: 3 etcd members, 2 API servers behind a TCP balancer',
    '',
    "Leaderless: the longest stretch of the fault window (injection to both elections leading again) in which no process of the election believed it led; the same measure for ours (3 replicas) and client-go (3 candidates of test/interop/client-go-candidate, same timings, own Lease, same balancer). Requests: Lease requests of each election in the window, from both servers' audit logs merged (a watch counts once, when it ends). client-go's candidate exits when it stops leading, as client-go controllers do; it is started again 0.5 s later (a container restart without back-off).",
    '',
    '| fault | balancer | runs | leaderless ours p50 / max (ms) | client-go p50 / max (ms) | requests per fault ours / client-go (median) | etcd leader changes | watch 504s (ours) | client-go restarts | overlap (ms) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const kind of HA_FAULTS) {
    for (const checks of [false, true]) {
      const faults = reports
        .filter((r) => (r.balancerHealthChecks ?? false) === checks)
        .flatMap((r) => r.faults)
        .filter((f) => f.name === kind && f.ha);
      if (!faults.length) continue;
      const figures = faults.map((f) => f.ha!);
      const ours = figures.map((f) => f.leaderlessMs.ours);
      const theirs = figures.map((f) => f.leaderlessMs.clientGo);
      lines.push(
        `| ${kind} | ${checks ? '/readyz checks' : 'plain'} | ${faults.length} | ${percentile(ours, 0.5)} / ${Math.max(...ours)} | ${percentile(theirs, 0.5)} / ${Math.max(...theirs)} | ${percentile(
          figures.map((f) => f.requests.ours),
          0.5,
        )} / ${percentile(
          figures.map((f) => f.requests.clientGo),
          0.5,
        )} | ${figures.reduce((s, f) => s + f.etcdLeaderChanges, 0)} | ${figures.reduce((s, f) => s + f.watch504s, 0)} | ${figures.reduce((s, f) => s + (f.clientGoRestarts ?? 0), 0)} | ${faults.reduce((s, f) => s + f.overlapMs, 0)} |`,
      );
    }
  }
  const fencing = reports.flatMap((r) => r.fencing ?? []);
  const failed = reports.filter((r) => r.error);
  lines.push(
    '',
    `Fencing tokens out of order: ${fencing.length ? fencing.join('; ') : 'none'}.`,
    `Runs that failed: ${failed.map((r) => `seed ${r.seed}: ${r.error}${r.failureLogs ? ` (logs: ${r.failureLogs})` : ''}`).join('; ') || 'none'}.`,
  );
  return lines.join('\n');
}
