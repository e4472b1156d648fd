// Runs bench/fixtures/gate.ts (compiled) in a process of its own and returns its result.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/candidates.js';
import { uniqueName } from '../../test/support/cluster.js';
import type { BenchContext } from '../lib/context.js';

interface GateSide {
  /** Calls per round; the median of `rounds` rounds after `warmupRounds`. */
  calls: { sync: number; async: number; rounds: number; warmupRounds: number };
  sync: { plainNs: number; gatedNs: number; overheadNs: number };
  async: { plainNs: number; gatedNs: number; overheadNs: number };
  lockCallsDuringLoops: { sync: number; async: number };
}

interface LockPerCall {
  calls: number;
  nsPerCall: number;
  apiRequestsPerCall: number;
}

export interface GateResult {
  leader: GateSide;
  follower: GateSide;
  /** The primitives of the follower's skip path, each timed alone (ns per call). */
  followerBreakdown: { getLeaderNs: number; handlerCheckNs: number; disabledDebugLogNs: number };
  lockPerCall: { clientNode: LockPerCall; rawKeepAlive: LockPerCall; confirmed?: LockPerCall };
  node: string;
}

export async function gateCost(ctx: BenchContext): Promise<GateResult> {
  const child = spawn(process.execPath, [path.join(ctx.buildDir, 'bench/fixtures/gate.js')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: ctx.kubeconfig,
      NAMESPACE: ctx.namespace,
      LEASE: uniqueName('lock-per-call'),
      QUICK: ctx.quick ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('{"event":"result"'));
  if (code !== 0 || !line) {
    const reason = `gate benchmark exited with ${code}: ${stderr.slice(-2000)}`;
    ctx.failures.push({ scenario: 'gate cost', reason });
    throw new Error(reason);
  }
  return JSON.parse(line) as GateResult;
}
