// A failed run's attachments: the tail of every process's log (each control-plane part, the
// client-go candidates) gathered in one file in the run's directory, named in the report.
import fs from 'node:fs';
import path from 'node:path';
import { tailFile } from '../../control-plane/processes.js';
import type { ChaosRun } from './chaos-run.js';
import type { RunTally } from './chaos-report.js';

const LINES = 60;

export function attachLogsOnFailure(run: ChaosRun, tally: RunTally): void {
  const state = run.controlPlane.state;
  const logs = run.ha ? run.ha.logFiles() : [state.logs.etcd, state.logs.kubeApiserver];
  const peers = [...new Set(run.clientGo?.candidates.map((c) => c.identity))].map((identity) =>
    path.join(run.outDir, `${identity}.log`),
  );
  const file = path.join(run.outDir, 'failure-logs.txt');
  fs.writeFileSync(
    file,
    [...logs, ...peers]
      .map((log) => `=== ${log} (last ${LINES} lines)\n${tailFile(log, LINES)}\n`)
      .join('\n'),
  );
  tally.failureLogs = file;
  run.log(`  every process's log: ${file}`);
}
