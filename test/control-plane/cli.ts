// npm run control-plane -- up | down | status [--state-dir DIR] [--json] [--all] [--ha [--health-checks]]
//
//   up      build the binaries if needed, start etcd + kube-apiserver, print server and kubeconfigs;
//           the processes keep running after this command exits. If one already runs, print it.
//           --ha: three etcd members and two kube-apiservers behind a TCP balancer (ha/ha-control-plane.ts).
//   down    stop the recorded processes by PID (--all: also every state dir under .control-plane/)
//   status  running / not running, with PIDs and paths; exit code 3 when not running
import fs from 'node:fs';
import path from 'node:path';
import {
  controlPlaneLiveness,
  DEFAULT_STATE_DIR,
  ensureBinaries,
  isControlPlaneRunning,
  readControlPlaneState,
  startControlPlane,
  stopControlPlane,
  type ControlPlaneState,
} from './control-plane.js';
import { startHaControlPlane } from './ha/ha-control-plane.js';

const usage = `usage: npm run control-plane -- <up|down|status> [--state-dir DIR] [--json] [--all]

  up      start etcd + kube-apiserver on 127.0.0.1 (builds the binaries the first time)
          --ha: the HA shape, 3 etcd members + 2 kube-apiservers behind a TCP balancer
          (--health-checks: the balancer drops a server whose /readyz fails)
  down    stop the processes recorded in DIR/state.json, by PID (--all: every state dir under ${path.relative(process.cwd(), DEFAULT_STATE_DIR) || DEFAULT_STATE_DIR})
  status  print whether it runs, its PIDs and paths (exit code 3 when not running)

  --state-dir DIR  default ${DEFAULT_STATE_DIR}
  --json           machine-readable output on stdout (up, status)`;

interface Options {
  command: string;
  stateDir: string;
  json: boolean;
  all: boolean;
  ha: boolean;
  healthChecks: boolean;
}

function parseArguments(argv: string[]): Options {
  const options: Options = {
    command: '',
    stateDir: DEFAULT_STATE_DIR,
    json: false,
    all: false,
    ha: false,
    healthChecks: false,
  };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--json') options.json = true;
    else if (argument === '--all') options.all = true;
    else if (argument === '--ha') options.ha = true;
    else if (argument === '--health-checks') options.healthChecks = true;
    else if (argument === '--state-dir') options.stateDir = requireValue(argv[++index], argument);
    else if (argument.startsWith('--state-dir='))
      options.stateDir = argument.slice('--state-dir='.length);
    else if (argument === '-h' || argument === '--help') options.command = 'help';
    else if (!options.command) options.command = argument;
    else throw new UsageError(`unexpected argument "${argument}"`);
  }
  options.stateDir = path.resolve(options.stateDir);
  return options;
}

function requireValue(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} needs a value`);
  return value;
}

class UsageError extends Error {}

function describeHa(state: ControlPlaneState): string[] {
  const ha = state.ha;
  if (!ha) return [];
  const live = controlPlaneLiveness(state);
  const mark = (name: string) => (live[name] ? 'running' : 'NOT running');
  return [
    `balancer:        pid ${ha.balancer.pid} (${mark('balancer')}), ${state.server}, health checks ${ha.balancer.healthChecks ? 'on' : 'off'}, control http://127.0.0.1:${ha.balancer.controlPort}, log ${ha.balancer.log}`,
    ...ha.servers.map(
      (s, i) =>
        `kube-apiserver-${i}: pid ${s.pid} (${mark(`kube-apiserver-${i}`)}), https://127.0.0.1:${s.port}, log ${s.log}, audit ${s.auditLog}`,
    ),
    ...ha.members.map(
      (m) =>
        `${m.name}:          pid ${m.pid} (${mark(m.name)}), client http://127.0.0.1:${m.clientPort}, log ${m.log}`,
    ),
    `etcd timings:    heartbeat ${ha.etcdTimings.heartbeatMs} ms, election ${ha.etcdTimings.electionMs} ms, data on ${ha.etcdDataRoot}`,
    `startup phases:  etcd ${ha.phasesMs.etcd} ms, balancer ${ha.phasesMs.balancer} ms, kube-apiservers ${ha.phasesMs.kubeApiservers} ms, RBAC bootstrap ${ha.phasesMs.bootstrap} ms`,
  ];
}

function describe(state: ControlPlaneState): string {
  const live = controlPlaneLiveness(state);
  const mark = (running: boolean) => (running ? 'running' : 'NOT running');
  return [
    `server:          ${state.server}`,
    `state dir:       ${state.stateDir}`,
    `kube-apiserver:  pid ${state.pids.kubeApiserver} (${mark(live.kubeApiserver)}), log ${state.logs.kubeApiserver}`,
    `etcd:            pid ${state.pids.etcd} (${mark(live.etcd)}), client http://127.0.0.1:${state.ports.etcdClient}, log ${state.logs.etcd}`,
    `kubeconfigs:     admin        ${state.kubeconfigs.admin}`,
    `                 lease-user   ${state.kubeconfigs.leaseUser}   (namespace ${state.namespace})`,
    `                 lease-reader ${state.kubeconfigs.leaseReader}   (namespace ${state.namespace}, no update)`,
    `audit log:       ${state.auditLogPath}`,
    `TLS:             ${state.tls.note}`,
    `started at:      ${state.startedAt}, startup ${state.startupMs} ms (etcd ${state.phasesMs.etcd}, kube-apiserver ${state.phasesMs.kubeApiserver}, RBAC bootstrap ${state.phasesMs.bootstrap})`,
    ...describeHa(state),
    `try:             kubectl --kubeconfig ${state.kubeconfigs.admin} get leases -A`,
  ].join('\n');
}

async function up(options: Options): Promise<number> {
  const existing = readControlPlaneState(options.stateDir);
  if (existing && isControlPlaneRunning(existing)) {
    if (options.json) print(JSON.stringify({ reused: true, state: existing }));
    else
      print(
        `A control plane is already running; not starting a second one.\n${describe(existing)}`,
      );
    return 0;
  }
  const binaries = await ensureBinaries();
  const started = performance.now();
  const controlPlane = options.ha
    ? await startHaControlPlane({
        stateDir: options.stateDir,
        binaries,
        healthChecks: options.healthChecks,
      })
    : await startControlPlane({ stateDir: options.stateDir, binaries });
  const wallMs = Math.round(performance.now() - started);
  if (options.json) print(JSON.stringify({ reused: false, wallMs, state: controlPlane.state }));
  else
    print(
      `Control plane is up (${wallMs} ms including state-dir setup).\n${describe(controlPlane.state)}\nStop it with: npm run control-plane -- down${options.stateDir === DEFAULT_STATE_DIR ? '' : ` --state-dir ${options.stateDir}`}`,
    );
  return 0;
}

async function down(options: Options): Promise<number> {
  const stateDirs = [options.stateDir];
  if (options.all) {
    for (const entry of safeReaddir(DEFAULT_STATE_DIR)) {
      const candidate = path.join(DEFAULT_STATE_DIR, entry);
      if (fs.existsSync(path.join(candidate, 'state.json')) && !stateDirs.includes(candidate))
        stateDirs.push(candidate);
    }
  }
  let found = false;
  for (const stateDir of stateDirs) {
    const stopped = await stopControlPlane(stateDir);
    if (stopped.length === 0) continue;
    found = true;
    for (const { name, pid, outcome } of stopped) {
      const how = outcome === 'not-running' ? 'was not running' : `stopped (${outcome})`;
      print(`${name.padEnd(14)} pid ${String(pid).padEnd(8)} ${how}   [${stateDir}]`);
    }
  }
  if (!found) print(`No control plane recorded in ${stateDirs.join(', ')}; nothing to stop.`);
  return 0;
}

function status(options: Options): number {
  const state = readControlPlaneState(options.stateDir);
  const running = state ? isControlPlaneRunning(state) : false;
  if (options.json) {
    print(JSON.stringify({ running, liveness: state ? controlPlaneLiveness(state) : null, state }));
  } else if (!state) {
    print(`not running (no state.json in ${options.stateDir})`);
  } else {
    print(
      `${running ? 'running' : 'NOT running (stale or partly dead: run `down`, then `up`)'}\n${describe(state)}`,
    );
  }
  return running ? 0 : 3;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function print(text: string): void {
  process.stdout.write(text + '\n');
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  switch (options.command) {
    case 'up':
      return up(options);
    case 'down':
      return down(options);
    case 'status':
      return status(options);
    case 'help':
      print(usage);
      return 0;
    default:
      throw new UsageError(
        options.command ? `unknown command "${options.command}"` : 'missing command',
      );
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${usage}\n`);
    else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
