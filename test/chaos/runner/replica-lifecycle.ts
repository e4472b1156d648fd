// Starting and stopping replicas: a new process of test/chaos/replica.ts behind its own TCP proxy,
// a graceful retirement, an abrupt stop, and a take-over by a replica with a faked clock.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../support/candidates.js';
import { faketimeEnv, WallClockControl, type FakeClock } from '../faketime.js';
import { TcpProxy } from '../tcp-proxy.js';
import { CHAOS_TIMINGS } from '../timings.js';
import type { ChaosRun } from './chaos-run.js';
import { Replica, type ReplicaOptions } from './replica-process.js';

/** The replicas whose process has not exited. */
export const live = (run: ChaosRun) => run.replicas.filter((r) => !r.dead);

/** A kubeconfig of the Lease user that reaches the API server through `port` (a proxy). */
function writeKubeconfig(run: ChaosRun, id: string, port: number): string {
  const kubeconfigPath = path.join(run.outDir, `${id}.kubeconfig`);
  const apiServer = run.controlPlane.state.ports.kubeApiserver;
  fs.writeFileSync(
    kubeconfigPath,
    fs
      .readFileSync(run.controlPlane.kubeconfigs.leaseUser, 'utf8')
      .replace(`127.0.0.1:${apiServer}`, `127.0.0.1:${port}`),
  );
  return kubeconfigPath;
}

/** The environment replica.ts reads (see there). */
function replicaEnv(
  run: ChaosRun,
  id: string,
  identity: string,
  kubeconfigPath: string,
  shares = run.spread?.shares,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    NAMESPACE: run.namespace,
    LEASE: run.lease,
    IDENTITY: identity,
    REPLICA_NAME: id,
    POD_TEMPLATE_HASH: run.revision,
    LEASE_DURATION_MS: String(CHAOS_TIMINGS.leaseDuration),
    RENEW_DEADLINE_MS: String(CHAOS_TIMINGS.renewDeadline),
    RETRY_PERIOD_MS: String(CHAOS_TIMINGS.retryPeriod),
    ...(run.spread ? { SHARES: String(shares), JOBS: Object.keys(run.jobs).join(',') } : {}),
  };
}

/** How the new replica's clock is faked, if it is. */
function fakeClockFor(run: ChaosRun, id: string, clock: ReplicaOptions['clock']) {
  if (clock === 'wall')
    return { kind: 'wall', file: path.join(run.outDir, `${id}.faketime`) } satisfies FakeClock;
  if (clock) return { kind: 'rate', rate: clock.rate } satisfies FakeClock;
  return undefined;
}

/** Starts the next replica (r1, r2, ...) behind a proxy of its own; its events go to the run's log. */
export async function startReplica(
  run: ChaosRun,
  replicaOptions: ReplicaOptions = {},
): Promise<Replica> {
  const id = `r${++run.serial}`;
  const identity = replicaOptions.identity ?? id;
  const proxy = new TcpProxy(run.controlPlane.state.ports.kubeApiserver);
  const port = await proxy.listen();
  if (replicaOptions.cut) proxy.cutOff();
  const kubeconfig = writeKubeconfig(run, id, port);
  const env = replicaEnv(run, id, identity, kubeconfig, replicaOptions.shares);
  const skew = run.skewEveryOther && run.serial % 2 === 0 ? run.skewEveryOther : 0;
  const fake: FakeClock | undefined = fakeClockFor(
    run,
    id,
    replicaOptions.clock ?? (skew ? 'wall' : undefined),
  );
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', path.join(REPO_ROOT, 'test/chaos/replica.ts')],
    { cwd: REPO_ROOT, env: fake ? faketimeEnv(env, fake) : env },
  );
  const replica = new Replica(
    id,
    identity,
    child,
    proxy,
    run.record,
    fake?.kind === 'wall' ? new WallClockControl(fake.file) : undefined,
    fake?.kind,
  );
  if (skew) replica.wallClock!.stepBack(skew);
  run.replicas.push(replica);
  return replica;
}

/** Sends `signal`, waits for the process to exit and closes its proxy. */
export async function stopWith(replica: Replica, signal: NodeJS.Signals): Promise<void> {
  replica.signal(signal);
  await replica.exited;
  await replica.proxy.close();
}

/** Stops a replica gracefully (SIGTERM: a leader releases the Lease) and closes its proxy. */
export async function retire(replica: Replica): Promise<void> {
  replica.signal('SIGTERM');
  const kill = setTimeout(() => replica.signal('SIGKILL'), 15_000);
  await replica.exited;
  clearTimeout(kill);
  await replica.proxy.close();
}

/**
 * Makes a new replica (here: one with a faked clock) the leader, keeping the replica count:
 * once it follows the current leader, the other followers' connections are cut, the leader is
 * stopped with SIGTERM (it releases the Lease), the new replica acquires, the cuts are restored.
 */
export async function takeOver(
  run: ChaosRun,
  leader: Replica,
  replicaOptions: ReplicaOptions,
): Promise<Replica> {
  const next = await startReplica(run, replicaOptions);
  await next.waitFor(
    (e) => e.type === 'change' && e.leader === leader.identity,
    `a change event naming ${leader.id}`,
  );
  const others = live(run).filter((r) => r !== leader && r !== next);
  for (const r of others) r.proxy.cutOff();
  try {
    await retire(leader);
    await next.waitFor((e) => e.type === 'change' && e.isLeader === true, 'leadership', 30_000);
  } finally {
    for (const r of others) r.proxy.restore();
  }
  return next;
}

/** Replaces a replica whose clock was faked by a plain one, so later faults see the usual set. */
export async function replaceFaked(run: ChaosRun, faked: Replica): Promise<void> {
  await retire(faked);
  await startReplica(run);
}
