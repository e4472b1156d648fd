// A real kube-apiserver + etcd on 127.0.0.1 for integration tests, benchmarks and the demo.
//
// Everything lives in one state directory (default `<repo>/.control-plane`): etcd data, serving certs,
// static tokens, kubeconfigs, logs, the audit log and `state.json`, which records the PIDs. The children
// run detached in their own process groups, so they outlive the process that started them; they are
// stopped by recorded PID, and only while that PID still runs the expected binary.
//
// See /work/shared/docs/control-plane-notes.md sections 3 and 6 for where the flags come from.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import {
  advertiseFlags,
  apiserverArgs,
  etcdArgs,
  prepareStateDir,
  randomToken,
  writeKubeconfig,
  writeSecrets,
} from './configuration.js';
import {
  checkServingCertificate,
  waitForDefaultNamespace,
  waitForEtcd,
  waitForReadyz,
} from './health.js';
import {
  freeLoopbackPorts,
  isProcessOf,
  spawnDetached,
  stopProcess,
  tailFile,
  waitForReaping,
  type StartedProcess,
  type StopOutcome,
} from './processes.js';
import { haLiveness, stopHaProcesses } from './ha/ha-processes.js';
import { createNamespace, grantLeaseAccess, USER_NAMES, waitForLeaseAccess } from './rbac.js';
import {
  CONTROL_PLANE_USERS,
  DEFAULT_STATE_DIR,
  layoutOf,
  readControlPlaneState,
  TEST_NAMESPACE,
  writeState,
  type ControlPlaneBinaries,
  type ControlPlaneState,
  type ControlPlaneUser,
} from './state.js';

export {
  CONTROL_PLANE_USERS,
  DEFAULT_STATE_DIR,
  readControlPlaneState,
  REPO_ROOT,
  TEST_NAMESPACE,
  type ControlPlaneBinaries,
  type ControlPlaneState,
  type ControlPlaneUser,
} from './state.js';
export { readAuditEvents, type AuditEvent, type AuditFilter } from './audit.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface ControlPlane {
  readonly server: string;
  readonly stateDir: string;
  readonly namespace: string;
  readonly kubeconfigs: Record<ControlPlaneUser, string>;
  readonly tokens: Record<ControlPlaneUser, string>;
  readonly auditLogPath: string;
  /** Current PIDs (they change when a component is restarted). */
  readonly pids: { etcd: number; kubeApiserver: number };
  readonly state: ControlPlaneState;
  /** Stops both processes and removes state.json (the directory and its logs stay). */
  stop(): Promise<void>;
  /** SIGTERM (or SIGKILL for a crash), waiting until the process is gone. */
  stopApiServer(options?: StopOptions): Promise<void>;
  /** Starts kube-apiserver again with the same flags and port, and waits for /readyz. */
  startApiServer(options?: { timeoutMs?: number }): Promise<void>;
  stopEtcd(options?: StopOptions): Promise<void>;
  /** Starts etcd again with the same ports and data dir, and waits for its /health. */
  startEtcd(options?: { timeoutMs?: number }): Promise<void>;
  /** Waits until kube-apiserver answers /readyz with 200 (e.g. after etcd came back). */
  waitUntilReady(timeoutMs?: number): Promise<void>;
}

export interface StopOptions {
  signal?: 'SIGTERM' | 'SIGKILL';
}

export interface StartControlPlaneOptions {
  /** Default `<repo>/.control-plane`. */
  stateDir?: string;
  /** Default: `ensureBinaries()`. */
  binaries?: ControlPlaneBinaries;
  /** Progress lines; default writes to stderr. */
  log?: (line: string) => void;
}

/** A failed step, with the tail of the log that explains it and how to retry. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
  constructor(
    readonly step: string,
    cause: unknown,
    readonly logFile?: string,
    retry = retryHint(DEFAULT_STATE_DIR),
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const tail = logFile
      ? `\n--- last 30 lines of ${logFile} ---\n${tailFile(logFile, 30)}\n---`
      : '';
    super(`control plane: step "${step}" failed: ${reason}${tail}\nRetry: ${retry}`, { cause });
  }
}

/** How to start over in `stateDir` (the CLI commands, with --state-dir unless it is the default). */
export function retryHint(stateDir: string): string {
  const flag = path.resolve(stateDir) === DEFAULT_STATE_DIR ? '' : ` --state-dir ${stateDir}`;
  return `npm run control-plane -- down${flag} && npm run control-plane -- up${flag}`;
}

const BUILD_SCRIPT = path.join(HERE, 'build.sh');

/**
 * Runs build.sh (which builds only what is not cached yet, progress on stderr) and returns the paths of
 * the two binaries.
 */
export async function ensureBinaries(): Promise<ControlPlaneBinaries> {
  const step = 'build kube-apiserver and etcd (test/control-plane/build.sh)';
  const retry = 'bash test/control-plane/build.sh   (FORCE=1 to rebuild from scratch)';
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error) => reject(new ControlPlaneError(step, error, undefined, retry)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(output);
      else {
        const how = signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(
          new ControlPlaneError(
            step,
            `build.sh failed (${how}); see its output above`,
            undefined,
            retry,
          ),
        );
      }
    });
  });
  const dir = stdout.trim().split('\n').pop()?.trim() ?? '';
  const binaries = {
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    etcd: path.join(dir, 'etcd'),
  };
  for (const binary of Object.values(binaries)) {
    try {
      fs.accessSync(binary, fs.constants.X_OK);
    } catch {
      throw new ControlPlaneError(
        step,
        `build.sh printed "${dir}" but ${binary} is not executable`,
        undefined,
        retry,
      );
    }
  }
  return binaries;
}

/**
 * Starts etcd and kube-apiserver on free loopback ports, bootstraps RBAC for the limited users and writes
 * kubeconfigs and state.json. Refuses to start a second control plane in a state dir whose recorded
 * processes still run.
 */
export async function startControlPlane(
  options: StartControlPlaneOptions = {},
): Promise<ControlPlane> {
  const stateDir = path.resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const log = options.log ?? ((line: string) => process.stderr.write(`[control-plane] ${line}\n`));
  const existing = readControlPlaneState(stateDir);
  if (existing && isControlPlaneRunning(existing)) {
    throw new ControlPlaneError(
      'check for a running control plane',
      `one is already running in ${stateDir} (kube-apiserver pid ${existing.pids.kubeApiserver}, etcd pid ${existing.pids.etcd}, ${existing.server})`,
      undefined,
      `use it, or stop it first: npm run control-plane -- down --state-dir ${stateDir}`,
    );
  }
  if (existing) await stopControlPlane(stateDir); // half-dead leftovers: stop whatever still runs
  const binaries = options.binaries ?? (await ensureBinaries());

  const layout = layoutOf(stateDir);
  const step = <T>(name: string, logFile: string | undefined, action: () => Promise<T>) =>
    runStep(name, logFile, action, retryHint(stateDir));
  const started: Array<{ process: StartedProcess; binary: string }> = [];
  const startedAt = new Date();
  const t0 = performance.now();
  try {
    prepareStateDir(stateDir, layout);
    const [etcdClient, etcdPeer, kubeApiserver] = await freeLoopbackPorts(3);
    const ports = { etcdClient, etcdPeer, kubeApiserver };
    const server = `https://127.0.0.1:${kubeApiserver}`;
    const tokens = {
      admin: randomToken(),
      leaseUser: randomToken(),
      leaseReader: randomToken(),
    } satisfies Record<ControlPlaneUser, string>;
    // The RSA key takes a few hundred ms: generate it while etcd starts.
    const secrets = writeSecrets(layout, tokens);
    secrets.catch(() => undefined); // awaited below; avoids an unhandled rejection if etcd fails first
    const advertise = advertiseFlags();

    const state: ControlPlaneState = {
      version: 1,
      stateDir,
      server,
      namespace: TEST_NAMESPACE,
      pids: { etcd: 0, kubeApiserver: 0 },
      ports,
      binaries,
      args: {
        etcd: etcdArgs(layout, ports),
        kubeApiserver: [...apiserverArgs(layout, ports), ...advertise.flags],
      },
      kubeconfigs: layout.kubeconfigs,
      tokens,
      users: { ...USER_NAMES },
      tls: { caFile: null, note: 'not checked yet' },
      advertiseAddress: advertise.address,
      auditLogPath: layout.auditLog,
      logs: { etcd: layout.etcdLog, kubeApiserver: layout.apiserverLog },
      startedAt: startedAt.toISOString(),
      startupMs: 0,
      phasesMs: { etcd: 0, kubeApiserver: 0, bootstrap: 0 },
    };
    log(`state dir ${stateDir}; ${advertise.note}`);

    log(`starting etcd on 127.0.0.1:${ports.etcdClient}`);
    const etcd = await step('start etcd', layout.etcdLog, () =>
      spawnDetached(binaries.etcd, state.args.etcd, layout.etcdLog),
    );
    started.push({ process: etcd, binary: binaries.etcd });
    state.pids.etcd = etcd.pid;
    writeState(state); // from here on `down` can find the processes, even if this process dies
    await step('wait for etcd /health', layout.etcdLog, () => waitForEtcd(state, etcd, 60_000));
    await step('write tokens, service-account key and audit policy', undefined, () => secrets);
    const tEtcd = performance.now();

    log(`starting kube-apiserver on ${server}`);
    const apiserver = await step('start kube-apiserver', layout.apiserverLog, () =>
      spawnDetached(binaries.kubeApiserver, state.args.kubeApiserver, layout.apiserverLog),
    );
    started.push({ process: apiserver, binary: binaries.kubeApiserver });
    state.pids.kubeApiserver = apiserver.pid;
    writeState(state);
    await step('wait for kube-apiserver /readyz', layout.apiserverLog, () =>
      waitForReadyz(state, apiserver, 120_000),
    );
    const tApiserver = performance.now();

    state.tls = await step('check the serving certificate', layout.apiserverLog, () =>
      checkServingCertificate(state),
    );
    for (const user of CONTROL_PLANE_USERS) writeKubeconfig(state, user);
    writeState(state);

    log('bootstrapping namespace and RBAC');
    const admin = kubeConfigFor(state, 'admin');
    await step('wait for namespace "default" (as admin)', layout.apiserverLog, () =>
      waitForDefaultNamespace(admin, 60_000),
    );
    await step(`create namespace ${TEST_NAMESPACE} and roles`, layout.apiserverLog, async () => {
      await createNamespace(admin, TEST_NAMESPACE);
      await grantLeaseAccess(admin, TEST_NAMESPACE);
    });
    await step(
      'wait until RBAC is effective for lease-user and lease-reader',
      layout.apiserverLog,
      async () => {
        await waitForLeaseAccess(kubeConfigFor(state, 'leaseUser'), TEST_NAMESPACE);
        await waitForLeaseAccess(kubeConfigFor(state, 'leaseReader'), TEST_NAMESPACE);
      },
    );
    const tDone = performance.now();

    state.startupMs = Math.round(tDone - t0);
    state.phasesMs = {
      etcd: Math.round(tEtcd - t0),
      kubeApiserver: Math.round(tApiserver - tEtcd),
      bootstrap: Math.round(tDone - tApiserver),
    };
    writeState(state);
    log(
      `ready in ${state.startupMs} ms (etcd ${state.phasesMs.etcd}, kube-apiserver ${state.phasesMs.kubeApiserver}, bootstrap ${state.phasesMs.bootstrap})`,
    );
    return new LocalControlPlane(state);
  } catch (error) {
    for (const { process: child, binary } of started.reverse()) {
      await stopProcess(child.pid, binary, { graceMs: 5_000 }).catch(() => undefined);
    }
    fs.rmSync(layout.stateFile, { force: true });
    throw error;
  }
}

/** The control plane recorded in `stateDir`, as an object that can stop and restart its parts. */
export function controlPlaneFromState(state: ControlPlaneState): ControlPlane {
  return new LocalControlPlane(state);
}

/** Which recorded processes still run their binary (HA shape: also each part by name). */
export function controlPlaneLiveness(state: ControlPlaneState): {
  etcd: boolean;
  kubeApiserver: boolean;
  [part: string]: boolean;
} {
  if (state.ha) {
    const parts = haLiveness(state, state.ha);
    const all = (prefix: string) =>
      Object.entries(parts)
        .filter(([name]) => name.startsWith(prefix))
        .every(([, running]) => running);
    return { ...parts, etcd: all('etcd'), kubeApiserver: all('kube-apiserver') && all('balancer') };
  }
  return {
    etcd: isProcessOf(state.pids.etcd, state.binaries.etcd),
    kubeApiserver: isProcessOf(state.pids.kubeApiserver, state.binaries.kubeApiserver),
  };
}

export function isControlPlaneRunning(state: ControlPlaneState): boolean {
  const live = controlPlaneLiveness(state);
  return live.etcd && live.kubeApiserver;
}

export interface StoppedProcess {
  /** `kube-apiserver`, `etcd`; in the HA shape `kube-apiserver-<i>`, `etcd-<i>`, `balancer`. */
  name: string;
  pid: number;
  outcome: StopOutcome;
}

/**
 * Stops the processes recorded in `<stateDir>/state.json` (kube-apiserver first, then etcd): SIGTERM, up to
 * 10 s, then SIGKILL, each only while its PID still runs the recorded binary. Then removes state.json.
 * Returns what it found; an empty list if there was no state.
 */
export async function stopControlPlane(
  stateDir: string = DEFAULT_STATE_DIR,
): Promise<StoppedProcess[]> {
  const state = readControlPlaneState(stateDir);
  if (!state) return [];
  const stopped = await stopRecordedProcesses(state);
  fs.rmSync(layoutOf(path.resolve(stateDir)).stateFile, { force: true });
  return stopped;
}

async function stopRecordedProcesses(state: ControlPlaneState): Promise<StoppedProcess[]> {
  if (state.ha) return stopHaProcesses(state, state.ha);
  const stopped: StoppedProcess[] = [];
  const order = [
    { name: 'kube-apiserver', pid: state.pids.kubeApiserver, binary: state.binaries.kubeApiserver },
    { name: 'etcd', pid: state.pids.etcd, binary: state.binaries.etcd },
  ] as const;
  for (const { name, pid, binary } of order) {
    if (!pid) continue;
    stopped.push({ name, pid, outcome: await stopProcess(pid, binary) });
  }
  // Not needed for correctness (the ports are free once the processes exit), but after a full stop
  // `ps` should not list them as <defunct> either.
  await Promise.all(stopped.map(({ pid }) => waitForReaping(pid)));
  return stopped;
}

/** A client-node KubeConfig for one of the three users, loaded from the kubeconfig file written at start. */
export function kubeConfigFor(state: ControlPlaneState, user: ControlPlaneUser): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfigs[user]);
  return kc;
}

/** `user`'s KubeConfig reaching the API server through a loopback proxy on `port` (e.g. a TcpProxy). */
export function kubeConfigThrough(
  state: ControlPlaneState,
  user: ControlPlaneUser,
  port: number,
): KubeConfig {
  const kubeConfig = kubeConfigFor(state, user);
  kubeConfig.loadFromOptions({
    clusters: kubeConfig.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
    users: kubeConfig.users,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
  });
  return kubeConfig;
}

class LocalControlPlane implements ControlPlane {
  constructor(readonly state: ControlPlaneState) {}

  get server() {
    return this.state.server;
  }
  get stateDir() {
    return this.state.stateDir;
  }
  get namespace() {
    return this.state.namespace;
  }
  get kubeconfigs() {
    return { ...this.state.kubeconfigs };
  }
  get tokens() {
    return { ...this.state.tokens };
  }
  get auditLogPath() {
    return this.state.auditLogPath;
  }
  get pids() {
    return { ...this.state.pids };
  }

  async stop(): Promise<void> {
    await stopRecordedProcesses(this.state);
    fs.rmSync(layoutOf(this.state.stateDir).stateFile, { force: true });
  }

  async stopApiServer(options: StopOptions = {}): Promise<void> {
    await stopProcess(this.state.pids.kubeApiserver, this.state.binaries.kubeApiserver, options);
  }

  async startApiServer(options: { timeoutMs?: number } = {}): Promise<void> {
    const { kubeApiserver: binary } = this.state.binaries;
    const logFile = this.state.logs.kubeApiserver;
    if (isProcessOf(this.state.pids.kubeApiserver, binary)) {
      throw new ControlPlaneError(
        'restart kube-apiserver',
        `it still runs as pid ${this.state.pids.kubeApiserver}`,
        undefined,
        'call stopApiServer() first',
      );
    }
    const child = await this.step('restart kube-apiserver', logFile, () =>
      spawnDetached(binary, this.state.args.kubeApiserver, logFile),
    );
    this.state.pids.kubeApiserver = child.pid;
    writeState(this.state);
    await this.step('wait for restarted kube-apiserver /readyz', logFile, () =>
      waitForReadyz(this.state, child, options.timeoutMs ?? 120_000),
    );
  }

  async stopEtcd(options: StopOptions = {}): Promise<void> {
    await stopProcess(this.state.pids.etcd, this.state.binaries.etcd, options);
  }

  async startEtcd(options: { timeoutMs?: number } = {}): Promise<void> {
    const { etcd: binary } = this.state.binaries;
    const logFile = this.state.logs.etcd;
    if (isProcessOf(this.state.pids.etcd, binary)) {
      throw new ControlPlaneError(
        'restart etcd',
        `it still runs as pid ${this.state.pids.etcd}`,
        undefined,
        'call stopEtcd() first',
      );
    }
    const child = await this.step('restart etcd', logFile, () =>
      spawnDetached(binary, this.state.args.etcd, logFile),
    );
    this.state.pids.etcd = child.pid;
    writeState(this.state);
    await this.step('wait for restarted etcd /health', logFile, () =>
      waitForEtcd(this.state, child, options.timeoutMs ?? 60_000),
    );
  }

  private step<T>(name: string, logFile: string, action: () => Promise<T>): Promise<T> {
    return runStep(name, logFile, action, retryHint(this.state.stateDir));
  }

  async waitUntilReady(timeoutMs = 120_000): Promise<void> {
    await this.step('wait for kube-apiserver /readyz', this.state.logs.kubeApiserver, () =>
      waitForReadyz(this.state, undefined, timeoutMs),
    );
  }
}

async function runStep<T>(
  step: string,
  logFile: string | undefined,
  action: () => Promise<T>,
  retry: string,
): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ControlPlaneError) throw error;
    throw new ControlPlaneError(step, error, logFile, retry);
  }
}
