// Jest globalSetup for the integration project: reuse the control plane named by NKL_CONTROL_PLANE_STATE
// if it is live, else start a fresh one in <repo>/.control-plane/jest-<pid>, and export its state dir in
// NKL_CONTROL_PLANE_STATE so test files (workers inherit the environment) can read it.
//
// Jest compiles this file to CommonJS and load it with require() even in ESM mode: moduleNameMapper does
// not apply, so `import ... from './control-plane.js'` fails with "Cannot find module", and import.meta
// does not exist. This file therefore uses only Node built-ins and drives the control plane through the
// CLI (cli.ts) in a child process, which also keeps the two long-running children out of Jest's process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** What the teardown needs; kept on globalThis, which globalSetup and globalTeardown share. */
export interface StartedByJest {
  stateDir: string;
  stop(): Promise<void>;
}

declare global {
  var __nklControlPlaneStartedByJest: StartedByJest | undefined;
}

export default async function globalSetup(
  _globalConfig: unknown,
  projectConfig: { rootDir: string },
): Promise<void> {
  const rootDir = projectConfig.rootDir;
  const requested = process.env.NKL_CONTROL_PLANE_STATE;
  if (requested) {
    const status = await runCli(rootDir, ['status', '--json', '--state-dir', requested], [0, 3]);
    if (status.running) {
      note(`reusing the control plane in ${requested} (${status.state.server})`);
      return;
    }
    note(`NKL_CONTROL_PLANE_STATE=${requested} is not a live control plane; starting a fresh one`);
  }

  const stateDir = path.join(rootDir, '.control-plane', `jest-${process.pid}`);
  const started = await runCli(rootDir, ['up', '--json', '--state-dir', stateDir], [0]);
  note(`started ${started.state.server} in ${started.wallMs} ms (state dir ${stateDir})`);
  process.env.NKL_CONTROL_PLANE_STATE = stateDir;
  globalThis.__nklControlPlaneStartedByJest = {
    stateDir,
    async stop() {
      await runCli(rootDir, ['down', '--state-dir', stateDir], [0]);
      // etcd preallocates a 64 MB WAL; keep the directory only when asked to (for its logs).
      if (process.env.NKL_KEEP_CONTROL_PLANE !== '1')
        fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function note(text: string): void {
  process.stderr.write(`[control-plane] ${text}\n`);
}

/** Runs cli.ts; stderr passes through (build progress), the last stdout line is JSON if --json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function runCli(rootDir: string, args: string[], okCodes: number[]): Promise<any> {
  const cli = path.join(rootDir, 'test', 'control-plane', 'cli.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', cli, ...args],
      { cwd: rootDir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === null || !okCodes.includes(code)) {
        reject(
          new Error(
            `control plane: "npm run control-plane -- ${args.join(' ')}" failed (exit code ${code}); its error is printed above.\n${stdout}`,
          ),
        );
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(args.includes('--json') ? JSON.parse(last) : stdout);
      } catch {
        reject(
          new Error(
            `control plane: cannot parse the output of cli.ts ${args.join(' ')}:\n${stdout}`,
          ),
        );
      }
    });
  });
}
