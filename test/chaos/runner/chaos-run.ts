// The context of one chaos run: its control plane, namespace and Lease, its replicas, the event log
// (every replica's events in arrival order, also written to events.jsonl) and its seeded random
// draws. Opening sets it up; closing stops the replicas and the control plane.
import fs from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  kubeConfigFor,
  startControlPlane,
  type ControlPlane,
} from '../../control-plane/control-plane.js';
import {
  startHaControlPlane,
  type HaControlPlane,
} from '../../control-plane/ha/ha-control-plane.js';
import { createNamespace, grantLeaseAccess, waitForLeaseAccess } from '../../control-plane/rbac.js';
import { REPO_ROOT } from '../../support/candidates.js';
import type { ReplicaEvent } from '../checker.js';
import { spreadJobs, type SpreadOptions } from '../spread.js';
import { sleep } from '../timings.js';
import { ClientGoPeers } from './client-go-peers.js';
import type { Replica } from './replica-process.js';

/** What {@link openRun} needs. */
export interface RunSetup {
  seed: number;
  log?: (line: string) => void;
  /** Where to write events.jsonl and the report; default a temp dir under .control-plane. */
  outDir?: string;
  /**
   * Replicas that also run jobs spread over shares (a second election, see spread.ts): recovery
   * then also waits until every share runs its jobs again, and the report adds overlap per job and
   * how long each share ran none of its jobs.
   */
  spread?: SpreadOptions;
  /**
   * Every other replica started (r2, r4, ...) runs with its wall clock this many seconds behind
   * (libfaketime), as on nodes whose NTP drifts: the `once` job's handovers between clocks apart.
   */
  skewEveryOther?: number;
  /**
   * The HA shape instead of one server and one etcd (see test/control-plane/ha), with or without
   * the balancer's /readyz health checks; client-go's candidates run beside the replicas.
   */
  ha?: { healthChecks: boolean };
}

/** One run's shared state, handed to every step. */
export interface ChaosRun {
  readonly seed: number;
  readonly log: (line: string) => void;
  /** The seeded draws (fault kinds, and picks inside faults): a seed reproduces a run. */
  readonly random: () => number;
  readonly outDir: string;
  readonly controlPlane: ControlPlane;
  /** With `ha`: the same control plane, with its parts. */
  readonly ha?: HaControlPlane;
  /** With `ha`: client-go's candidates on a Lease of their own. */
  clientGo?: ClientGoPeers;
  readonly admin: KubeConfig;
  readonly namespace: string;
  /** The election's Lease. */
  readonly lease: string;
  /** The Lease API as an administrator. */
  readonly leases: CoordinationV1Api;
  readonly spread?: SpreadOptions;
  /** With `spread`: each job's share; else empty. */
  readonly jobs: Record<string, number>;
  /** Every replica started, dead ones included. */
  readonly replicas: Replica[];
  /** Every event of every replica, in arrival order. */
  readonly events: ReplicaEvent[];
  readonly record: (event: ReplicaEvent) => void;
  readonly eventLog: fs.WriteStream;
  /** The number of the last replica started (r1, r2, ...). */
  serial: number;
  /**
   * The revision new replicas run (`POD_TEMPLATE_HASH`, as the sample's manifests set it): `rev0`,
   * and a new one for every rolling update, as a Deployment's new ReplicaSet.
   */
  revision: string;
  /** See {@link RunSetup.skewEveryOther}. */
  readonly skewEveryOther?: number;
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

/** One of `list`, drawn from the run's seeded sequence. */
export const pick = <T>(run: ChaosRun, list: T[]): T =>
  list[Math.floor(run.random() * list.length)];

/** What runs started and have not stopped yet: an interrupted `npm run test:chaos` stops them. */
const running = new Set<ChaosRun>();

/** Kills a run's replicas and stops its control plane at once. */
async function killRun(run: ChaosRun): Promise<void> {
  for (const r of run.replicas) r.signal('SIGKILL');
  await Promise.all(run.replicas.map((r) => r.proxy.close().catch(() => undefined)));
  await run.clientGo?.stop();
  await run.controlPlane.stop();
}

/** Kills the replicas and stops the control planes of the runs in progress (on SIGINT/SIGTERM). */
export async function stopRunningChaos(): Promise<void> {
  await Promise.all([...running].map((run) => killRun(run).catch(() => undefined)));
}

/**
 * Opens the event log, starts a control plane and makes a namespace whose Leases the replicas'
 * user may edit.
 */
export async function openRun(setup: RunSetup): Promise<ChaosRun> {
  const log = setup.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const random = seededRandom(setup.seed);
  const outDir =
    setup.outDir ?? fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', `chaos-${setup.seed}-`));
  fs.mkdirSync(outDir, { recursive: true });
  const eventLog = fs.createWriteStream(path.join(outDir, 'events.jsonl'));
  const events: ReplicaEvent[] = [];
  const record = (event: ReplicaEvent) => {
    events.push(event);
    eventLog.write(`${JSON.stringify(event)}\n`);
  };
  const controlPlaneOptions = {
    stateDir: path.join(outDir, 'control-plane'),
    log: (line: string) => log(`  ${line}`),
  };
  const ha = setup.ha
    ? await startHaControlPlane({ ...controlPlaneOptions, healthChecks: setup.ha.healthChecks })
    : undefined;
  const controlPlane = ha ?? (await startControlPlane(controlPlaneOptions));
  const replicas: Replica[] = [];
  const admin = kubeConfigFor(controlPlane.state, 'admin');
  const namespace = `chaos-${setup.seed}-${Date.now().toString(36)}`;
  const run: ChaosRun = {
    seed: setup.seed,
    log,
    random,
    outDir,
    controlPlane,
    ...(ha ? { ha } : {}),
    admin,
    namespace,
    lease: 'chaos',
    leases: admin.makeApiClient(CoordinationV1Api),
    ...(setup.spread ? { spread: setup.spread } : {}),
    ...(setup.skewEveryOther ? { skewEveryOther: setup.skewEveryOther } : {}),
    jobs: setup.spread ? spreadJobs(setup.spread) : {},
    replicas,
    events,
    record,
    eventLog,
    serial: 0,
    revision: 'rev0',
  };
  running.add(run);
  await createNamespace(admin, namespace);
  await grantLeaseAccess(admin, namespace);
  await waitForLeaseAccess(kubeConfigFor(controlPlane.state, 'leaseUser'), namespace);
  // Each API server caches RBAC on its own: wait until both grant it.
  for (const [i] of ha?.ha.servers.entries() ?? [])
    await waitForLeaseAccess(ha!.kubeConfigOnServer('leaseUser', i), namespace);
  if (ha) run.clientGo = ClientGoPeers.start(controlPlane.state, namespace, outDir);
  return run;
}

/**
 * Stops every replica (SIGTERM, SIGKILL after 10 s; a paused one is continued first), closes the
 * proxies, stops the control plane and closes the event log.
 */
export async function closeRun(run: ChaosRun): Promise<void> {
  for (const r of run.replicas) {
    if (r.paused) r.signal('SIGCONT');
    r.signal('SIGTERM');
  }
  await Promise.all(
    run.replicas.map((r) =>
      Promise.race([r.exited, sleep(10_000).then(() => r.signal('SIGKILL'))]),
    ),
  );
  await Promise.all(run.replicas.map((r) => r.proxy.close().catch(() => undefined)));
  await run.clientGo?.stop();
  await run.controlPlane.stop();
  running.delete(run);
  await new Promise((resolve) => run.eventLog.end(resolve));
}
