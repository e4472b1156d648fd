// The HA shape of the local control plane (`npm run control-plane -- up --ha`): three etcd members,
// two kube-apiservers sharing the ServiceAccount key and issuer, the token file and one CA-signed
// serving certificate, and a TCP balancer in front of them (round robin per connection, with or
// without `/readyz` health checks). Clients reach the balancer: `server` and the kubeconfigs name it.
// Each API server reaches the members through links in the balancer process, so one server can be
// cut from etcd on its own. Same state directory conventions as control-plane.ts; `down` stops
// every part by PID.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  advertiseFlags,
  prepareStateDir,
  randomToken,
  writeKubeconfig,
  writeSecrets,
} from '../configuration.js';
import {
  ControlPlaneError,
  ensureBinaries,
  isControlPlaneRunning,
  kubeConfigFor,
  readControlPlaneState,
  retryHint,
  stopControlPlane,
  type ControlPlane,
  type StartControlPlaneOptions,
  type StopOptions,
} from '../control-plane.js';
import { pollUntil, probe, waitForDefaultNamespace } from '../health.js';
import {
  freeListeningPorts,
  isProcessOf,
  spawnDetached,
  stopProcess,
  waitUntilExited,
  type StartedProcess,
} from '../processes.js';
import { createNamespace, grantLeaseAccess, USER_NAMES, waitForLeaseAccess } from '../rbac.js';
import {
  CONTROL_PLANE_USERS,
  layoutOf,
  REPO_ROOT,
  TEST_NAMESPACE,
  writeState,
  type ControlPlaneState,
  type ControlPlaneUser,
} from '../state.js';
import type { BalancerCommand, BalancerConfig, BalancerStatus } from './balancer.js';
import { balancerCommand } from './balancer-client.js';
import { etcdLeader, leaderChangesSeen, memberHealthy } from './etcd-members.js';
import {
  ETCD_TIMINGS,
  etcdMemberArgs,
  haApiserverArgs,
  writeServingCertificate,
} from './ha-configuration.js';
import { stopHaProcesses } from './ha-processes.js';
import { haLayoutOf, type ApiServerInstance, type EtcdMember, type HaState } from './ha-state.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BALANCER_SCRIPT = path.join(HERE, 'balancer-process.ts');
export const ETCD_MEMBERS = 3;
export const API_SERVERS = 2;

/** A control plane in the HA shape: the single-server interface acts on every part at once. */
export interface HaControlPlane extends ControlPlane {
  readonly ha: HaState;
  stopServer(index: number, options?: StopOptions): Promise<void>;
  startServer(index: number, options?: { timeoutMs?: number }): Promise<void>;
  /** Until server `index` answers `/readyz` with 200. */
  waitForServer(index: number, timeoutMs?: number): Promise<void>;
  stopMember(index: number, options?: StopOptions): Promise<void>;
  /** Starts member `index` again; with `wait` (default) until it reports itself healthy. */
  startMember(index: number, wait?: boolean): Promise<void>;
  /** `user`'s KubeConfig straight to server `index`, past the balancer. */
  kubeConfigOnServer(user: ControlPlaneUser, index: number): KubeConfig;
  /** Until every running member reports itself healthy (a leader, quorum). */
  waitForMembers(timeoutMs?: number): Promise<void>;
  etcdLeader(): Promise<number | undefined>;
  leaderChangesSeen(): Promise<Array<number | null>>;
  balancer(command?: BalancerCommand): Promise<BalancerStatus>;
  /** Every process's log file (for a failed run's attachments). */
  logFiles(): string[];
}

export interface StartHaOptions extends StartControlPlaneOptions {
  /** The balancer takes servers whose `/readyz` fails out of the round robin (default false). */
  healthChecks?: boolean;
}

/** Where etcd's data goes: tmpfs when there is one (fsync stays on, and costs little there). */
function etcdDataRoot(stateDir: string): string {
  const shm = '/dev/shm';
  const base = fs.existsSync(shm) ? shm : stateDir;
  return fs.mkdtempSync(path.join(base, `nkl-etcd-${path.basename(stateDir)}-`));
}

export async function startHaControlPlane(options: StartHaOptions = {}): Promise<HaControlPlane> {
  const stateDir = path.resolve(options.stateDir ?? path.join(REPO_ROOT, '.control-plane'));
  const log = options.log ?? ((line: string) => process.stderr.write(`[control-plane] ${line}\n`));
  const existing = readControlPlaneState(stateDir);
  if (existing && isControlPlaneRunning(existing))
    throw new ControlPlaneError(
      'check for a running control plane',
      `one is already running in ${stateDir} (${existing.server})`,
      undefined,
      `use it, or stop it first: npm run control-plane -- down --state-dir ${stateDir}`,
    );
  if (existing) await stopControlPlane(stateDir);
  const binaries = options.binaries ?? (await ensureBinaries());
  const layout = layoutOf(stateDir);
  const files = haLayoutOf(stateDir);
  const retry = retryHint(stateDir);
  const step = async <T>(name: string, logFile: string | undefined, action: () => Promise<T>) => {
    try {
      return await action();
    } catch (error) {
      throw error instanceof ControlPlaneError
        ? error
        : new ControlPlaneError(name, error, logFile, retry);
    }
  };
  const t0 = performance.now();
  prepareStateDir(stateDir, layout);
  for (const entry of fs.readdirSync(stateDir))
    if (
      /^(ha-pki|pki-\d|etcd-\d\.log|kube-apiserver-\d\.log|audit-\d\.log|balancer\.(log|json))$/.test(
        entry,
      )
    )
      fs.rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  const ports = await freeListeningPorts(2 * ETCD_MEMBERS + API_SERVERS * (1 + ETCD_MEMBERS) + 2);
  const take = () => ports.shift()!;
  const dataRoot = etcdDataRoot(stateDir);
  const members: EtcdMember[] = Array.from({ length: ETCD_MEMBERS }, (_, i) => ({
    name: `etcd-${i}`,
    clientPort: take(),
    peerPort: take(),
    dataDir: path.join(dataRoot, `etcd-${i}`),
    pid: 0,
    args: [],
    log: files.memberLog(i),
  }));
  for (const member of members) member.args = etcdMemberArgs(member, members);
  const balancerPort = take();
  const controlPort = take();
  const advertise = advertiseFlags();
  const servers: ApiServerInstance[] = Array.from({ length: API_SERVERS }, (_, i) => {
    const server = {
      port: take(),
      pid: 0,
      args: [] as string[],
      log: files.serverLog(i),
      auditLog: files.auditLog(i),
      etcdLinks: members.map(() => take()),
    };
    server.args = haApiserverArgs(layout, stateDir, server, i, balancerPort, advertise.flags);
    return server;
  });
  const tokens = { admin: randomToken(), leaseUser: randomToken(), leaseReader: randomToken() };
  const ha: HaState = {
    members,
    servers,
    balancer: {
      port: balancerPort,
      controlPort,
      pid: 0,
      script: BALANCER_SCRIPT,
      args: [],
      log: files.balancerLog,
      healthChecks: options.healthChecks ?? false,
    },
    caFile: files.caCert,
    etcdDataRoot: dataRoot,
    etcdTimings: ETCD_TIMINGS,
    phasesMs: { etcd: 0, balancer: 0, kubeApiservers: 0, bootstrap: 0 },
  };
  const state: ControlPlaneState = {
    version: 1,
    stateDir,
    server: `https://127.0.0.1:${balancerPort}`,
    namespace: TEST_NAMESPACE,
    pids: { etcd: 0, kubeApiserver: 0 },
    ports: {
      etcdClient: members[0].clientPort,
      etcdPeer: members[0].peerPort,
      kubeApiserver: balancerPort,
    },
    binaries,
    args: { etcd: members[0].args, kubeApiserver: servers[0].args },
    kubeconfigs: layout.kubeconfigs,
    tokens,
    users: { ...USER_NAMES },
    tls: {
      caFile: files.caCert,
      note: `one serving certificate for both servers, signed by ${files.caCert}`,
    },
    advertiseAddress: advertise.address,
    auditLogPath: servers[0].auditLog,
    logs: { etcd: members[0].log, kubeApiserver: servers[0].log },
    startedAt: new Date().toISOString(),
    startupMs: 0,
    phasesMs: { etcd: 0, kubeApiserver: 0, bootstrap: 0 },
    ha,
  };
  const controlPlane = new LocalHaControlPlane(state);
  try {
    const secrets = Promise.all([writeSecrets(layout, tokens), writeServingCertificate(stateDir)]);
    secrets.catch(() => undefined);
    log(`state dir ${stateDir}; etcd data on ${dataRoot}; ${advertise.note}`);
    log(
      `starting ${ETCD_MEMBERS} etcd members (heartbeat ${ETCD_TIMINGS.heartbeatMs} ms, election ${ETCD_TIMINGS.electionMs} ms)`,
    );
    await Promise.all(members.map((_, i) => controlPlane.startMember(i, false)));
    await step('wait for the etcd members /health', members[0].log, () =>
      controlPlane.waitForMembers(60_000),
    );
    await step(
      'write tokens, keys, audit policy and the serving certificate',
      undefined,
      () => secrets,
    );
    const tEtcd = performance.now();

    log(
      `starting the balancer on ${state.server} (health checks ${ha.balancer.healthChecks ? 'on' : 'off'})`,
    );
    await step('start the balancer', ha.balancer.log, () => controlPlane.startBalancer());
    const tBalancer = performance.now();

    log(
      `starting ${API_SERVERS} kube-apiservers on ports ${servers.map((s) => s.port).join(', ')}`,
    );
    await Promise.all(servers.map((_, i) => controlPlane.startServer(i, { timeoutMs: 180_000 })));
    const tServers = performance.now();

    for (const user of CONTROL_PLANE_USERS) writeKubeconfig(state, user);
    writeState(state);
    log('bootstrapping namespace and RBAC through the balancer');
    const admin = kubeConfigFor(state, 'admin');
    await step('wait for namespace "default"', servers[0].log, () =>
      waitForDefaultNamespace(admin, 60_000),
    );
    await step(`create namespace ${TEST_NAMESPACE} and roles`, servers[0].log, async () => {
      await createNamespace(admin, TEST_NAMESPACE);
      await grantLeaseAccess(admin, TEST_NAMESPACE);
    });
    // RBAC is cached per server: wait until both servers grant it (through each one's port).
    await step('wait until RBAC is effective on both servers', servers[1].log, async () => {
      for (const [i] of servers.entries())
        for (const user of ['leaseUser', 'leaseReader'] as const)
          await waitForLeaseAccess(controlPlane.kubeConfigOnServer(user, i), TEST_NAMESPACE);
    });
    const tDone = performance.now();
    const ms = (from: number, to: number) => Math.round(to - from);
    ha.phasesMs = {
      etcd: ms(t0, tEtcd),
      balancer: ms(tEtcd, tBalancer),
      kubeApiservers: ms(tBalancer, tServers),
      bootstrap: ms(tServers, tDone),
    };
    state.startupMs = ms(t0, tDone);
    state.phasesMs = {
      etcd: ha.phasesMs.etcd,
      kubeApiserver: ms(tEtcd, tServers),
      bootstrap: ha.phasesMs.bootstrap,
    };
    writeState(state);
    log(
      `ready in ${state.startupMs} ms (etcd ${ha.phasesMs.etcd}, balancer ${ha.phasesMs.balancer}, kube-apiservers ${ha.phasesMs.kubeApiservers}, bootstrap ${ha.phasesMs.bootstrap})`,
    );
    return controlPlane;
  } catch (error) {
    await stopHaProcesses(state, ha).catch(() => undefined);
    fs.rmSync(layout.stateFile, { force: true });
    throw error;
  }
}

class LocalHaControlPlane implements HaControlPlane {
  constructor(readonly state: ControlPlaneState) {}

  get ha(): HaState {
    return this.state.ha!;
  }
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

  logFiles(): string[] {
    return [
      ...this.ha.members.map((m) => m.log),
      this.ha.balancer.log,
      ...this.ha.servers.map((s) => s.log),
    ];
  }

  /** `user`'s KubeConfig straight to server `index`, past the balancer. */
  kubeConfigOnServer(user: ControlPlaneUser, index: number): KubeConfig {
    const kubeConfig = kubeConfigFor(this.state, user);
    kubeConfig.loadFromOptions({
      clusters: kubeConfig.clusters.map((c) => ({
        ...c,
        server: `https://127.0.0.1:${this.ha.servers[index].port}`,
      })),
      users: kubeConfig.users,
      contexts: kubeConfig.contexts,
      currentContext: kubeConfig.currentContext,
    });
    return kubeConfig;
  }

  async stop(): Promise<void> {
    await stopHaProcesses(this.state, this.ha);
    fs.rmSync(layoutOf(this.state.stateDir).stateFile, { force: true });
  }

  private failure(name: string, logFile: string) {
    return (error: unknown) => {
      throw error instanceof ControlPlaneError
        ? error
        : new ControlPlaneError(name, error, logFile, retryHint(this.state.stateDir));
    };
  }

  private async spawn(
    name: string,
    binary: string,
    args: string[],
    logFile: string,
  ): Promise<StartedProcess> {
    return spawnDetached(binary, args, logFile, { cwd: REPO_ROOT }).catch(
      this.failure(name, logFile),
    );
  }

  async startMember(index: number, wait = true): Promise<void> {
    const member = this.ha.members[index];
    if (isProcessOf(member.pid, this.state.binaries.etcd)) return;
    if (member.pid) await waitUntilExited(member.pid); // its ports are free once it has exited
    const child = await this.spawn(
      `start ${member.name}`,
      this.state.binaries.etcd,
      member.args,
      member.log,
    );
    member.pid = child.pid;
    if (index === 0) this.state.pids.etcd = child.pid;
    writeState(this.state);
    if (wait)
      await pollUntil(
        `${member.name} /health`,
        60_000,
        async () => ((await memberHealthy(member)) ? true : 'not healthy'),
        child,
      ).catch(this.failure(`wait for ${member.name}`, member.log));
  }

  async stopMember(index: number, options: StopOptions = {}): Promise<void> {
    await stopProcess(this.ha.members[index].pid, this.state.binaries.etcd, options);
  }

  async waitForMembers(timeoutMs = 60_000): Promise<void> {
    const running = this.ha.members.filter((m) => isProcessOf(m.pid, this.state.binaries.etcd));
    await pollUntil('every running etcd member healthy', timeoutMs, async () => {
      const health = await Promise.all(running.map(memberHealthy));
      return health.every(Boolean) ? true : `healthy: ${health.join(', ')}`;
    }).catch(this.failure('wait for the etcd members', this.ha.members[0].log));
  }

  etcdLeader(): Promise<number | undefined> {
    return etcdLeader(this.ha.members);
  }

  leaderChangesSeen(): Promise<Array<number | null>> {
    return leaderChangesSeen(this.ha.members);
  }

  async startBalancer(): Promise<void> {
    const balancer = this.ha.balancer;
    const configFile = path.join(this.state.stateDir, 'balancer.json');
    const config: BalancerConfig = {
      port: balancer.port,
      controlPort: balancer.controlPort,
      servers: this.ha.servers.map((s) => ({
        port: s.port,
        etcdLinks: s.etcdLinks.map((port, member) => ({ port, member })),
      })),
      memberPorts: this.ha.members.map((m) => m.clientPort),
      caFile: this.ha.caFile,
      healthChecks: balancer.healthChecks,
    };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    balancer.args = ['--import', '@swc-node/register/esm-register', balancer.script, configFile];
    const child = await this.spawn(
      'start the balancer',
      process.execPath,
      balancer.args,
      balancer.log,
    );
    balancer.pid = child.pid;
    writeState(this.state);
    await pollUntil(
      'the balancer control endpoint',
      30_000,
      async () => {
        await balancerCommand(balancer.controlPort);
        return true;
      },
      child,
    );
  }

  balancer(command?: BalancerCommand): Promise<BalancerStatus> {
    return balancerCommand(this.ha.balancer.controlPort, command);
  }

  async startServer(index: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const server = this.ha.servers[index];
    if (isProcessOf(server.pid, this.state.binaries.kubeApiserver)) return;
    if (server.pid) await waitUntilExited(server.pid); // its port is free once it has exited
    const child = await this.spawn(
      `start kube-apiserver-${index}`,
      this.state.binaries.kubeApiserver,
      server.args,
      server.log,
    );
    server.pid = child.pid;
    if (index === 0) this.state.pids.kubeApiserver = child.pid;
    writeState(this.state);
    await this.waitForServer(index, options.timeoutMs ?? 120_000, child);
  }

  async stopServer(index: number, options: StopOptions = {}): Promise<void> {
    await stopProcess(this.ha.servers[index].pid, this.state.binaries.kubeApiserver, options);
  }

  async waitForServer(index: number, timeoutMs = 120_000, child?: StartedProcess): Promise<void> {
    const server = this.ha.servers[index];
    const ca = fs.readFileSync(this.ha.caFile);
    await pollUntil(
      `kube-apiserver-${index} /readyz`,
      timeoutMs,
      async () => {
        const { status, body } = await probe(`https://127.0.0.1:${server.port}/readyz`, { ca });
        return status === 200
          ? true
          : `HTTP ${status} ${body
              .split('\n')
              .filter((l) => l.includes('failed'))
              .join('; ')}`;
      },
      child,
    ).catch(this.failure(`wait for kube-apiserver-${index} /readyz`, server.log));
  }

  // The single-server interface, on every part at once.
  async stopApiServer(options: StopOptions = {}): Promise<void> {
    await Promise.all(this.ha.servers.map((_, i) => this.stopServer(i, options)));
  }
  async startApiServer(options: { timeoutMs?: number } = {}): Promise<void> {
    await Promise.all(this.ha.servers.map((_, i) => this.startServer(i, options)));
  }
  async stopEtcd(options: StopOptions = {}): Promise<void> {
    await Promise.all(this.ha.members.map((_, i) => this.stopMember(i, options)));
  }
  async startEtcd(): Promise<void> {
    await Promise.all(this.ha.members.map((_, i) => this.startMember(i, false)));
    await this.waitForMembers();
  }
  async waitUntilReady(timeoutMs = 120_000): Promise<void> {
    await Promise.all(this.ha.servers.map((_, i) => this.waitForServer(i, timeoutMs)));
  }
}

/** The HA control plane recorded in a state.json (`state.ha` set). */
export function haControlPlaneFromState(state: ControlPlaneState): HaControlPlane {
  if (!state.ha)
    throw new Error(`${state.stateDir} holds a single-server control plane, not the HA shape`);
  return new LocalHaControlPlane(state);
}

/** Host facts for the report: the machine the figures were measured on. */
export function machineNote(): string {
  return `${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}
