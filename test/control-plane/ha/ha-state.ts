// What state.json records of a control plane in the HA shape (`up --ha`): three etcd members, two
// kube-apiservers and the balancer process in front of them, each with its PID, ports, command
// line and log, so that any process can restart one part or stop them all by PID.
import path from 'node:path';

/** One etcd member of the cluster. */
export interface EtcdMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  pid: number;
  args: string[];
  log: string;
}

/** One kube-apiserver; it reaches etcd member j through `etcdLinks[j]` (a link in the balancer process). */
export interface ApiServerInstance {
  port: number;
  pid: number;
  args: string[];
  log: string;
  auditLog: string;
  etcdLinks: number[];
}

/** The balancer process: the TCP balancer in front of the API servers and the links to etcd. */
export interface BalancerProcess {
  port: number;
  /** Its control endpoint (plain HTTP on loopback, see balancer-process.ts). */
  controlPort: number;
  pid: number;
  /** The script it runs; its command line contains this path (the PID check). */
  script: string;
  args: string[];
  log: string;
  /** Whether it started with `/readyz` health checks. */
  healthChecks: boolean;
}

export interface HaState {
  members: EtcdMember[];
  servers: ApiServerInstance[];
  balancer: BalancerProcess;
  /** The CA that signed the one serving certificate both API servers present. */
  caFile: string;
  /** The etcd members' data lives on tmpfs (fsync is on, and cheap there): removed by `down`. */
  etcdDataRoot: string;
  /** Etcd heartbeat interval and election timeout, ms. */
  etcdTimings: { heartbeatMs: number; electionMs: number };
  phasesMs: { etcd: number; balancer: number; kubeApiservers: number; bootstrap: number };
}

/** Paths of the HA parts inside a state directory. */
export function haLayoutOf(stateDir: string) {
  const at = (name: string) => path.join(stateDir, name);
  return {
    pki: at('ha-pki'),
    caKey: at('ha-pki/ca.key'),
    caCert: at('ha-pki/ca.crt'),
    servingKey: at('ha-pki/serving.key'),
    servingCert: at('ha-pki/serving.crt'),
    memberLog: (i: number) => at(`etcd-${i}.log`),
    serverLog: (i: number) => at(`kube-apiserver-${i}.log`),
    auditLog: (i: number) => at(`audit-${i}.log`),
    serverCertDir: (i: number) => at(`pki-${i}`),
    balancerLog: at('balancer.log'),
  };
}
