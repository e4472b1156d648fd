// The state directory of a local control plane: its layout and state.json, which records everything
// another process needs to reach, restart or stop it (PIDs, ports, binaries, exact command lines).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HaState } from './ha/ha-state.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = path.resolve(HERE, '../..');

export const DEFAULT_STATE_DIR = path.join(REPO_ROOT, '.control-plane');

/** The namespace where lease-user and lease-reader have their roles. */
export const TEST_NAMESPACE = 'le-test';

export type ControlPlaneUser = 'admin' | 'leaseUser' | 'leaseReader';

export const CONTROL_PLANE_USERS: readonly ControlPlaneUser[] = [
  'admin',
  'leaseUser',
  'leaseReader',
];

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  etcd: string;
}

/** What `state.json` records; enough to reach, restart and stop the control plane from any process. */
export interface ControlPlaneState {
  version: 1;
  stateDir: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  namespace: string;
  pids: { etcd: number; kubeApiserver: number };
  ports: { etcdClient: number; etcdPeer: number; kubeApiserver: number };
  binaries: ControlPlaneBinaries;
  /** Exact command lines, reused on restart (same ports, same data dir). */
  args: { etcd: string[]; kubeApiserver: string[] };
  kubeconfigs: Record<ControlPlaneUser, string>;
  tokens: Record<ControlPlaneUser, string>;
  /** Kubernetes user names: admin, lease-user, lease-reader. */
  users: Record<ControlPlaneUser, string>;
  /** How clients verify the serving certificate. */
  tls: { caFile: string | null; note: string };
  /** `--advertise-address` if one had to be passed, else null (kube-apiserver picks the default-route IP). */
  advertiseAddress: string | null;
  auditLogPath: string;
  logs: { etcd: string; kubeApiserver: string };
  startedAt: string;
  /** From spawning etcd to RBAC being effective for both limited users. */
  startupMs: number;
  phasesMs: { etcd: number; kubeApiserver: number; bootstrap: number };
  /**
   * Set for the HA shape (`up --ha`): every member, server and the balancer. `server` and
   * `ports.kubeApiserver` are then the balancer's, `pids` those of member 0 and server 0.
   */
  ha?: HaState;
}

/** Paths inside a state directory. */
export type StateDirLayout = ReturnType<typeof layoutOf>;

export function layoutOf(stateDir: string) {
  const at = (name: string) => path.join(stateDir, name);
  return {
    stateFile: at('state.json'),
    etcdDataDir: at('etcd-data'),
    certDir: at('pki'),
    saKey: at('sa.key'),
    saPub: at('sa.pub'),
    tokensFile: at('tokens.csv'),
    auditPolicy: at('audit-policy.yaml'),
    auditLog: at('audit.log'),
    etcdLog: at('etcd.log'),
    apiserverLog: at('kube-apiserver.log'),
    kubeconfigs: {
      admin: at('admin.kubeconfig'),
      leaseUser: at('lease-user.kubeconfig'),
      leaseReader: at('lease-reader.kubeconfig'),
    } satisfies Record<ControlPlaneUser, string>,
  };
}

/** Reads `<stateDir>/state.json`; null if there is none. Does not check that the processes run. */
export function readControlPlaneState(
  stateDir: string = DEFAULT_STATE_DIR,
): ControlPlaneState | null {
  const file = layoutOf(path.resolve(stateDir)).stateFile;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return JSON.parse(text) as ControlPlaneState;
}

export function writeState(state: ControlPlaneState): void {
  const file = layoutOf(state.stateDir).stateFile;
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
}
