// What every scenario needs: the control plane, where the compiled fixtures and the client-go
// candidate are, the audit log, and the candidate processes it started (to clean them up).
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
} from '../../test/control-plane/control-plane.js';
import { CandidateProcess, REPO_ROOT, type CandidateEvent } from '../../test/support/candidates.js';
import { AuditTail } from './audit.js';
import { compileForBench } from './compile.js';
import { spawnPeer } from './peers.js';

export type Impl = 'ours' | 'client-go' | 'codedependant';
/** The implementations of the full run; the Node peer runs alone (`--only peer`, bench/lib/peers.ts). */
export const IMPLS: readonly Impl[] = ['ours', 'client-go'];

export interface Profile {
  name: 'fast' | 'default';
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  default: { name: 'default', leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 },
  fast: { name: 'fast', leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 },
};

/** A run that did not produce a leader (or another failure); the bench exits non-zero if any. */
export interface Failure {
  scenario: string;
  run?: number;
  reason: string;
}

/** The JSON lines of both candidate programs (test/fixtures/candidate.ts, client-go-candidate). */
export type BenchEvent = Omit<CandidateEvent, 'event'> & {
  /** Plus `requests` (SIGUSR2) and `tick` (ours with LEADER_TICK_MS: one run of the leader-only task). */
  event: CandidateEvent['event'] | 'requests' | 'tick';
  lease?: string;
  counts?: Record<string, Record<string, number>>;
  /** `tick`: the wall-clock slot (ms since the epoch / period) the run belongs to. */
  slot?: number;
};

export interface BenchContext {
  readonly controlPlane: ControlPlane;
  readonly namespace: string;
  /** lease-user's kubeconfig: get/create/update/watch on leases. */
  readonly kubeconfig: string;
  readonly clientGoBinary: string;
  /** Compiled lib/, test/fixtures/ and bench/fixtures/ (bench/lib/compile.ts). */
  readonly buildDir: string;
  readonly audit: AuditTail;
  readonly quick: boolean;
  readonly failures: Failure[];
  readonly children: Set<CandidateProcess>;
  log(line: string): void;
}

/**
 * Starts a control plane in `stateDir` (under the repository), compiles the fixtures into it, and
 * returns the context. `failures` and `children` are the caller's, so that it can clean up even when
 * this throws (see `stopBench`).
 */
export async function startBench(
  stateDir: string,
  options: Pick<BenchContext, 'quick' | 'failures' | 'children' | 'log'>,
): Promise<BenchContext> {
  const { log } = options;
  log(`state dir ${stateDir}`);
  const controlPlane = await startControlPlane({ stateDir, log: (line) => log(line) });
  const buildDir = path.join(stateDir, 'build');
  const files = await compileForBench(REPO_ROOT, buildDir);
  log(`compiled ${files} files to ${buildDir}`);
  return {
    ...options,
    controlPlane,
    namespace: controlPlane.namespace,
    kubeconfig: controlPlane.kubeconfigs.leaseUser,
    clientGoBinary: path.join(
      path.dirname(controlPlane.state.binaries.etcd),
      'client-go-candidate',
    ),
    buildDir,
    audit: new AuditTail(controlPlane.auditLogPath, controlPlane.namespace),
  };
}

/** SIGKILLs every candidate still running and stops the control plane of `stateDir` (if started). */
export async function stopBench(
  stateDir: string,
  children: Iterable<CandidateProcess>,
): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await stopControlPlane(stateDir).catch(() => undefined);
}

export interface SpawnOptions {
  impl: Impl;
  identity: string;
  lease: string;
  profile: Profile;
  /** Leader renew cadence (ours only); default retryPeriod. */
  renewInterval?: number;
  /** N Leases <lease>-<i>, one candidate each, in this process. */
  elections?: number;
  /** N candidates <identity>-<i> on the Lease, in this process. */
  candidates?: number;
  /** A leader-only task every N ms that prints a `tick` event per run (ours only). */
  leaderTickMs?: number;
  /**
   * The replica's revision (ours only): the environment variable `POD_TEMPLATE_HASH`, as the sample's
   * manifests set it from the Pod's `pod-template-hash` label; the elector's `revision` defaults to it.
   */
  revision?: string;
}

/** Starts a candidate process of either implementation. */
export function spawnCandidate(ctx: BenchContext, options: SpawnOptions): CandidateProcess {
  const { impl, identity, lease, profile } = options;
  const child =
    impl === 'codedependant'
      ? spawnPeer({ ...ctx, identity, lease, profile })
      : impl === 'ours'
        ? spawn(process.execPath, [path.join(ctx.buildDir, 'test/fixtures/candidate.js')], {
            cwd: REPO_ROOT,
            env: {
              PATH: process.env.PATH,
              KUBECONFIG: ctx.kubeconfig,
              NAMESPACE: ctx.namespace,
              LEASE: lease,
              IDENTITY: identity,
              LEASE_DURATION_MS: String(profile.leaseDuration),
              RENEW_DEADLINE_MS: String(profile.renewDeadline),
              RETRY_PERIOD_MS: String(profile.retryPeriod),
              ...(options.renewInterval
                ? { RENEW_INTERVAL_MS: String(options.renewInterval) }
                : {}),
              ELECTIONS: String(options.elections ?? 1),
              CANDIDATES: String(options.candidates ?? 1),
              ...(options.leaderTickMs ? { LEADER_TICK_MS: String(options.leaderTickMs) } : {}),
              ...(options.revision ? { POD_TEMPLATE_HASH: options.revision } : {}),
            },
          })
        : spawn(ctx.clientGoBinary, [
            `--kubeconfig=${ctx.kubeconfig}`,
            `--namespace=${ctx.namespace}`,
            `--lease=${lease}`,
            `--identity=${identity}`,
            `--lease-duration=${profile.leaseDuration}ms`,
            `--renew-deadline=${profile.renewDeadline}ms`,
            `--retry-period=${profile.retryPeriod}ms`,
            `--elections=${options.elections ?? 1}`,
            `--candidates=${options.candidates ?? 1}`,
          ]);
  const candidate = new CandidateProcess(
    {
      impl,
      identity,
      lease,
      kubeconfig: ctx.kubeconfig,
      namespace: ctx.namespace,
      ...profile,
    },
    child,
  );
  // klog writes a few lines per elector on stderr; keep only the last ones.
  child.stderr.on('data', () => {
    if (candidate.stderr.length > 200) candidate.stderr.splice(0, candidate.stderr.length - 100);
  });
  ctx.children.add(candidate);
  void candidate.exited.then(() => ctx.children.delete(candidate));
  return candidate;
}

export function eventsOf(candidate: CandidateProcess): BenchEvent[] {
  return candidate.events as BenchEvent[];
}

/**
 * Identities (electors) that lead `lease` now according to their own reports: a started_leading not
 * followed by stopped_leading, and a process that has not exited. client-go reports stopped_leading
 * at exit for candidates that never led; those do not count as leading.
 */
export function leadersOf(candidates: readonly CandidateProcess[], lease?: string): string[] {
  const leading = new Set<string>();
  for (const candidate of candidates) {
    if (candidate.child.exitCode !== null || candidate.child.signalCode !== null) continue;
    for (const e of eventsOf(candidate)) {
      if (lease !== undefined && e.lease !== undefined && e.lease !== lease) continue;
      if (e.event === 'started_leading') leading.add(e.identity);
      if (e.event === 'stopped_leading') leading.delete(e.identity);
      if (e.event === 'exit') {
        for (const id of [...leading]) {
          if (id === e.identity || id.startsWith(`${e.identity}-`)) leading.delete(id);
        }
      }
    }
  }
  return [...leading];
}

/** The process hosting elector `identity` (for single-elector processes: the one with that identity). */
export function hostOf(
  candidates: readonly CandidateProcess[],
  identity: string,
): CandidateProcess | undefined {
  return (
    candidates.find((c) => c.identity === identity) ??
    candidates.find((c) => eventsOf(c).some((e) => e.identity === identity))
  );
}

/** Sends SIGUSR2 and waits for the "requests" event it prints. */
export async function requestCounts(
  candidate: CandidateProcess,
  timeoutMs = 5_000,
): Promise<Record<string, Record<string, number>>> {
  const since = candidate.events.length;
  candidate.kill('SIGUSR2');
  const event = (await candidate.waitFor(
    (e) => e.event === ('requests' as CandidateEvent['event']),
    timeoutMs,
    since,
  )) as BenchEvent;
  return event.counts ?? {};
}

/** Resolves with the first event matching `predicate` from any of `candidates` after `since`. */
export function firstEvent(
  candidates: readonly CandidateProcess[],
  predicate: (e: BenchEvent) => boolean,
  timeoutMs: number,
  since?: Map<CandidateProcess, number>,
): Promise<{ candidate: CandidateProcess; event: BenchEvent }> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const candidate of candidates) {
      candidate
        .waitFor((e) => predicate(e as BenchEvent), timeoutMs + 1_000, since?.get(candidate) ?? 0)
        .then((event) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve({ candidate, event: event as BenchEvent });
        })
        .catch(() => undefined);
    }
  });
}

/** Index of the next event of each candidate, for `firstEvent(..., since)`. */
export function marks(candidates: readonly CandidateProcess[]): Map<CandidateProcess, number> {
  return new Map(candidates.map((c) => [c, c.events.length]));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when every process has exited. */
export async function stopAll(candidates: readonly CandidateProcess[], graceMs = 15_000) {
  await Promise.all(
    candidates.map(async (candidate) => {
      candidate.kill('SIGTERM');
      const timer = setTimeout(() => candidate.kill('SIGKILL'), graceMs);
      await candidate.exited;
      clearTimeout(timer);
    }),
  );
}
