// The fault-injection harness: N replicas of test/chaos/replica.ts (real Nest apps, one process each)
// on a real control plane of their own, each reaching the API server through its own TCP proxy.
// Faults are drawn from a seeded random sequence; after each one the harness waits for a single,
// agreed leader again. The event log is analysed by checker.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  CoordinationV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  kubeConfigFor,
  startControlPlane,
  type ControlPlane,
} from '../control-plane/control-plane.js';
import { createNamespace, grantLeaseAccess, waitForLeaseAccess } from '../control-plane/rbac.js';
import { REPO_ROOT } from '../support/candidates.js';
import {
  cronReport,
  longestGap,
  overlap,
  overlapWithin,
  workIntervals,
  type CronReport,
  type FaultWindow,
  type ReplicaEvent,
} from './checker.js';
import { TcpProxy } from './tcp-proxy.js';

export const CHAOS_TIMINGS = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const now = () => performance.timeOrigin + performance.now();

export type FaultName =
  | 'sigkill-leader'
  | 'sigterm-leader'
  | 'sigkill-follower'
  | 'sigstop-leader'
  | 'apiserver-restart'
  | 'etcd-restart'
  | 'cut-leader-short'
  | 'cut-leader-long'
  | 'slow-leader-mild'
  | 'slow-leader-severe'
  | 'lease-deleted'
  | 'holder-overwritten'
  | 'duration-nonsense'
  | 'times-malformed'
  | 'rbac-revoked';

export const ALL_FAULTS: FaultName[] = [
  'sigkill-leader',
  'sigterm-leader',
  'sigkill-follower',
  'sigstop-leader',
  'apiserver-restart',
  'etcd-restart',
  'cut-leader-short',
  'cut-leader-long',
  'slow-leader-mild',
  'slow-leader-severe',
  'lease-deleted',
  'holder-overwritten',
  'duration-nonsense',
  'times-malformed',
  'rbac-revoked',
];

export interface ChaosOptions {
  seed: number;
  /** Number of injected faults. */
  faults: number;
  /** Which faults to draw from. */
  kinds?: FaultName[];
  /** A fixed sequence instead of random draws (then `faults` is its length). */
  sequence?: FaultName[];
  replicas?: number;
  log?: (line: string) => void;
  /** Where to write events.jsonl and the report; default a temp dir under .control-plane. */
  outDir?: string;
}

export interface FaultResult extends FaultWindow {
  /** Longest time without committed leader-only work during the fault and its recovery. */
  maxGapMs: number;
  /** Overlap of leader-only work inside the fault window (filled in after the run). */
  overlapMs: number;
  note?: string;
}

export interface ChaosReport {
  seed: number;
  faults: FaultResult[];
  overlapMs: number;
  overlapCases: string[];
  cron: CronReport;
  /** Live replicas whose last change event did not name the leader after a recovery. */
  missedChanges: number;
  totalWorkRuns: number;
  outDir: string;
  /** Set when the run stopped early: no stable leader after a fault (a liveness failure). */
  error?: string;
}

class Replica {
  readonly events: ReplicaEvent[] = [];
  readonly exited: Promise<number | null>;
  paused = false;
  dead = false;

  constructor(
    readonly id: string,
    readonly child: ChildProcessWithoutNullStreams,
    readonly proxy: TcpProxy,
    sink: (event: ReplicaEvent) => void,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as ReplicaEvent;
        this.events.push(event);
        sink(event);
      } catch {
        // not ours
      }
    });
    child.stderr.resume();
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.dead = true;
        resolve(code);
      }),
    );
  }

  /** The last change event this replica reported. */
  get view(): ReplicaEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--)
      if (this.events[i].type === 'change') return this.events[i];
    return undefined;
  }

  signal(signal: NodeJS.Signals) {
    if (!this.dead) this.child.kill(signal);
  }
}

/** Deterministic PRNG (mulberry32) so that a seed reproduces the fault sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What runs started and have not stopped yet: an interrupted `npm run test:chaos` stops them. */
const running = new Set<() => Promise<void>>();

/** Kills the replicas and stops the control planes of the runs in progress (on SIGINT/SIGTERM). */
export async function stopRunningChaos(): Promise<void> {
  await Promise.all([...running].map((stop) => stop().catch(() => undefined)));
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const random = seededRandom(options.seed);
  const kinds = options.kinds ?? ALL_FAULTS;
  const replicaCount = options.replicas ?? 3;
  const outDir =
    options.outDir ??
    fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', `chaos-${options.seed}-`));
  fs.mkdirSync(outDir, { recursive: true });
  const eventLog = fs.createWriteStream(path.join(outDir, 'events.jsonl'));
  const all: ReplicaEvent[] = [];
  const record = (event: ReplicaEvent) => {
    all.push(event);
    eventLog.write(`${JSON.stringify(event)}\n`);
  };

  const controlPlane: ControlPlane = await startControlPlane({
    stateDir: path.join(outDir, 'control-plane'),
    log: (line) => log(`  ${line}`),
  });
  const replicas: Replica[] = [];
  const stopRun = async () => {
    for (const r of replicas) r.signal('SIGKILL');
    await Promise.all(replicas.map((r) => r.proxy.close().catch(() => undefined)));
    await controlPlane.stop();
  };
  running.add(stopRun);
  const admin = kubeConfigFor(controlPlane.state, 'admin');
  const namespace = `chaos-${options.seed}-${Date.now().toString(36)}`;
  await createNamespace(admin, namespace);
  await grantLeaseAccess(admin, namespace);
  await waitForLeaseAccess(kubeConfigFor(controlPlane.state, 'leaseUser'), namespace);
  const lease = 'chaos';
  const leases = admin.makeApiClient(CoordinationV1Api);
  let serial = 0;

  const startReplica = async (): Promise<Replica> => {
    const id = `r${++serial}`;
    const proxy = new TcpProxy(controlPlane.state.ports.kubeApiserver);
    const port = await proxy.listen();
    const kubeconfigPath = path.join(outDir, `${id}.kubeconfig`);
    fs.writeFileSync(
      kubeconfigPath,
      fs
        .readFileSync(controlPlane.kubeconfigs.leaseUser, 'utf8')
        .replace(`127.0.0.1:${controlPlane.state.ports.kubeApiserver}`, `127.0.0.1:${port}`),
    );
    const child = spawn(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        path.join(REPO_ROOT, 'test/chaos/replica.ts'),
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          KUBECONFIG: kubeconfigPath,
          NAMESPACE: namespace,
          LEASE: lease,
          IDENTITY: id,
          LEASE_DURATION_MS: String(CHAOS_TIMINGS.leaseDuration),
          RENEW_DEADLINE_MS: String(CHAOS_TIMINGS.renewDeadline),
          RETRY_PERIOD_MS: String(CHAOS_TIMINGS.retryPeriod),
        },
      },
    );
    const replica = new Replica(id, child, proxy, record);
    replicas.push(replica);
    return replica;
  };

  const live = () => replicas.filter((r) => !r.dead);
  /** The holder, once the Lease is back to what our replicas write (an admin edit repaired). */
  const leaseHolder = async () => {
    try {
      const spec = (await leases.readNamespacedLease({ name: lease, namespace })).spec;
      if (spec?.leaseDurationSeconds !== CHAOS_TIMINGS.leaseDuration / 1000) return null;
      return spec?.holderIdentity ?? null;
    } catch {
      return null;
    }
  };

  /** A leader that the Lease names, that reports leading, that every live replica agrees on. */
  const waitForStableLeader = async (timeoutMs = 60_000): Promise<Replica> => {
    const deadline = now() + timeoutMs;
    for (;;) {
      const holder = await leaseHolder();
      const leader = live().find((r) => r.id === holder && !r.paused && r.view?.isLeader);
      if (
        leader &&
        live()
          .filter((r) => !r.paused)
          .every((r) => r.view?.leader === leader.id) &&
        leader.events.some((e) => e.type === 'work-step' && e.t > now() - 1_000)
      ) {
        return leader;
      }
      if (now() > deadline) {
        throw new Error(
          `no stable leader within ${timeoutMs} ms (lease holder ${holder}; views ${live()
            .map((r) => `${r.id}:${JSON.stringify(r.view)}`)
            .join(' ')})`,
        );
      }
      await sleep(50);
    }
  };

  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
  const results: FaultResult[] = [];
  let missedChanges = 0;
  let failure: string | undefined;

  try {
    for (let i = 0; i < replicaCount; i++) await startReplica();
    await waitForStableLeader(120_000);
    log(
      `chaos seed ${options.seed}: ${replicaCount} replicas, ${options.faults} faults, events in ${outDir}`,
    );

    const total = options.sequence?.length ?? options.faults;
    for (let n = 0; n < total; n++) {
      const leader = await waitForStableLeader();
      const kind = options.sequence ? options.sequence[n] : pick(kinds);
      const start = now();
      let note: string | undefined;
      switch (kind) {
        case 'sigkill-leader':
          leader.signal('SIGKILL');
          await leader.exited;
          await leader.proxy.close();
          await startReplica();
          break;
        case 'sigterm-leader':
          leader.signal('SIGTERM');
          await leader.exited;
          await leader.proxy.close();
          await startReplica();
          break;
        case 'sigkill-follower': {
          const follower = pick(live().filter((r) => r !== leader));
          follower.signal('SIGKILL');
          await follower.exited;
          await follower.proxy.close();
          await startReplica();
          break;
        }
        case 'sigstop-leader':
          leader.paused = true;
          leader.signal('SIGSTOP');
          await sleep(CHAOS_TIMINGS.leaseDuration + 1_500);
          leader.signal('SIGCONT');
          leader.paused = false;
          break;
        case 'apiserver-restart':
          await controlPlane.stopApiServer();
          await sleep(500 + random() * 2_000);
          await controlPlane.startApiServer();
          break;
        case 'etcd-restart':
          await controlPlane.stopEtcd();
          await sleep(500 + random() * 2_000);
          await controlPlane.startEtcd();
          await controlPlane.waitUntilReady(120_000);
          break;
        case 'cut-leader-short':
          leader.proxy.cutOff();
          await sleep(CHAOS_TIMINGS.renewDeadline / 2);
          leader.proxy.restore();
          break;
        case 'cut-leader-long':
          leader.proxy.cutOff();
          await sleep(CHAOS_TIMINGS.renewDeadline + CHAOS_TIMINGS.leaseDuration);
          leader.proxy.restore();
          break;
        case 'slow-leader-mild':
          // Round trips of ~0.8 s: below the request timeout (renewDeadline / 2 = 1 s).
          leader.proxy.delay(400);
          await sleep(4_000);
          leader.proxy.restore();
          break;
        case 'slow-leader-severe':
          // Round trips of ~2.4 s: every request times out, the renew deadline passes.
          leader.proxy.delay(1_200);
          await sleep(5_000);
          leader.proxy.restore();
          break;
        case 'lease-deleted':
          await leases.deleteNamespacedLease({ name: lease, namespace });
          break;
        case 'holder-overwritten':
          note = await adminEdit(leases, lease, namespace, (spec) => ({
            ...spec,
            holderIdentity: 'intruder',
          }));
          break;
        case 'duration-nonsense': {
          const seconds = pick([1, 2_147_483_647]);
          note =
            (await adminEdit(leases, lease, namespace, (spec) => ({
              ...spec,
              leaseDurationSeconds: seconds,
            }))) ?? `leaseDurationSeconds ${seconds}`;
          break;
        }
        case 'times-malformed':
          note = await adminEdit(leases, lease, namespace, (spec) => ({
            ...spec,
            renewTime: pick([
              'yesterday',
              '2026-11-23T20:00:00.1Z',
              '2026-11-23T20:00:00Z',
            ]) as unknown as Date,
          }));
          break;
        case 'rbac-revoked': {
          const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
          await rbac.deleteNamespacedRoleBinding({ name: 'lease-rw', namespace });
          await sleep(CHAOS_TIMINGS.leaseDuration + 1_000);
          await grantLeaseAccess(admin, namespace);
          break;
        }
      }
      let next: Replica;
      try {
        next = await waitForStableLeader(90_000);
      } catch (error) {
        failure = `after fault ${n + 1} (${kind}): ${error instanceof Error ? error.message : String(error)}`;
        log(`  ${failure}`);
        break;
      }
      // Every live replica must have heard of the current leader (no lost change events).
      for (const r of live()) if (r.view?.leader !== next.id) missedChanges += 1;
      const recovered = now();
      const result: FaultResult = {
        name: kind,
        start,
        recovered,
        maxGapMs: Math.round(longestGap(all, start, recovered)),
        overlapMs: 0,
        ...(note ? { note } : {}),
      };
      results.push(result);
      log(
        `  fault ${n + 1}/${total} ${kind}: leader ${leader.id} -> ${next.id}, max gap ${result.maxGapMs} ms${note ? ` (${note})` : ''}`,
      );
    }
  } finally {
    for (const r of replicas) {
      if (r.paused) r.signal('SIGCONT');
      r.signal('SIGTERM');
    }
    await Promise.all(
      replicas.map((r) => Promise.race([r.exited, sleep(10_000).then(() => r.signal('SIGKILL'))])),
    );
    await Promise.all(replicas.map((r) => r.proxy.close().catch(() => undefined)));
    await controlPlane.stop();
    running.delete(stopRun);
    await new Promise((resolve) => eventLog.end(resolve));
  }

  const intervals = workIntervals(all);
  const { totalMs, cases } = overlap(intervals);
  for (const fault of results)
    fault.overlapMs = overlapWithin(intervals, fault.start, fault.recovered);
  const report: ChaosReport = {
    seed: options.seed,
    faults: results,
    overlapMs: totalMs,
    overlapCases: cases,
    cron: cronReport(all, results),
    missedChanges,
    totalWorkRuns: intervals.length,
    outDir,
    ...(failure ? { error: failure } : {}),
  };
  fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2));
  return report;
}

/** Reads the Lease and replaces its spec as an administrator; returns a note if the server refused. */
async function adminEdit(
  leases: CoordinationV1Api,
  name: string,
  namespace: string,
  edit: (spec: Record<string, unknown>) => Record<string, unknown>,
): Promise<string | undefined> {
  const current = await leases.readNamespacedLease({ name, namespace });
  try {
    await leases.replaceNamespacedLease({
      name,
      namespace,
      body: { ...current, spec: edit({ ...(current.spec as Record<string, unknown>) }) },
    });
    return undefined;
  } catch (error) {
    const code = (error as { code?: number }).code;
    return `the API server refused the edit with ${code ?? String(error)}`;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type { KubeConfig };
