// `npm test` runs the benchmark's quick mode as a smoke test: every scenario must produce a leader and
// a report. Performance targets are reported in REPORT.md, never asserted here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../test/support/candidates.js';

describe('npm run bench -- --quick', () => {
  it('runs every scenario to the end and writes its report', () => {
    const report = path.join(REPO_ROOT, 'bench', 'results', 'quick', 'REPORT.md');
    fs.rmSync(report, { force: true });
    const run = spawnSync(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'bench/run.ts', '--quick', '--no-wait'],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 900_000 },
    );
    if (run.status !== 0) {
      throw new Error(
        `bench --quick exited ${run.status}:\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-2000)}`,
      );
    }
    const text = fs.readFileSync(report, 'utf8');
    expect(text).toContain('Graceful handover');
    expect(text).toContain('Crash failover');
    expect(text).toContain('Cost of the gate');
    expect(text).toContain('Rolling update');
    expect(text).toContain('Spreading');
  }, 900_000);
});
