// The command lines of the HA shape, and its one serving certificate: three etcd members with
// explicit heartbeat and election timeouts, two kube-apiservers sharing the ServiceAccount key and
// issuer (the balancer's URL), the token file, the audit policy and the certificate.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { StateDirLayout } from '../state.js';
import type { ApiServerInstance, EtcdMember } from './ha-state.js';
import { haLayoutOf } from './ha-state.js';

const run = promisify(execFile);

/**
 * Etcd's defaults (100 ms heartbeat, 1 s election timeout) assume an idle machine; on a loaded
 * 2-core machine a member that misses a few heartbeats starts an election nobody injected. Ten
 * heartbeats per election timeout, as etcd's tuning guide asks, at 2.5 times the defaults.
 */
export const ETCD_TIMINGS = { heartbeatMs: 250, electionMs: 2_500 };

export function etcdMemberArgs(
  member: Omit<EtcdMember, 'pid' | 'args'>,
  all: EtcdMember[],
): string[] {
  const url = (port: number) => `http://127.0.0.1:${port}`;
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${url(member.clientPort)}`,
    `--advertise-client-urls=${url(member.clientPort)}`,
    `--listen-peer-urls=${url(member.peerPort)}`,
    `--initial-advertise-peer-urls=${url(member.peerPort)}`,
    `--initial-cluster=${all.map((m) => `${m.name}=${url(m.peerPort)}`).join(',')}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=nkl-ha',
    `--heartbeat-interval=${ETCD_TIMINGS.heartbeatMs}`,
    `--election-timeout=${ETCD_TIMINGS.electionMs}`,
    // fsync stays on (unlike the single-member shape): slow writes are one of the faults.
    '--log-level=warn',
  ];
}

export function haApiserverArgs(
  layout: StateDirLayout,
  stateDir: string,
  server: Pick<ApiServerInstance, 'port' | 'auditLog' | 'etcdLinks'>,
  index: number,
  balancerPort: number,
  advertise: string[],
): string[] {
  const ha = haLayoutOf(stateDir);
  return [
    `--etcd-servers=${server.etcdLinks.map((port) => `http://127.0.0.1:${port}`).join(',')}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${server.port}`,
    `--cert-dir=${ha.serverCertDir(index)}`,
    `--tls-cert-file=${ha.servingCert}`,
    `--tls-private-key-file=${ha.servingKey}`,
    `--service-account-issuer=https://127.0.0.1:${balancerPort}`,
    `--service-account-signing-key-file=${layout.saKey}`,
    `--service-account-key-file=${layout.saPub}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--token-auth-file=${layout.tokensFile}`,
    `--audit-policy-file=${layout.auditPolicy}`,
    `--audit-log-path=${server.auditLog}`,
    '--audit-log-mode=blocking',
    // Both servers share one advertise address: neither may rewrite the "kubernetes" Endpoints.
    '--endpoint-reconciler-type=none',
    ...advertise.filter((flag) => !flag.startsWith('--endpoint-reconciler-type')),
  ];
}

/**
 * A CA and one serving certificate it signs, valid for 127.0.0.1 and localhost (the balancer's
 * address and both servers'), with openssl.
 */
export async function writeServingCertificate(stateDir: string): Promise<void> {
  const ha = haLayoutOf(stateDir);
  fs.mkdirSync(ha.pki, { recursive: true, mode: 0o700 });
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=nkl-ha-ca',
    '-keyout',
    ha.caKey,
    '-out',
    ha.caCert,
  ]);
  const csr = `${ha.servingCert}.csr`;
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=kube-apiserver',
    '-keyout',
    ha.servingKey,
    '-out',
    csr,
  ]);
  const extensions = `${ha.servingCert}.ext`;
  fs.writeFileSync(
    extensions,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ha.caCert,
    '-CAkey',
    ha.caKey,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    extensions,
    '-out',
    ha.servingCert,
  ]);
  fs.rmSync(csr);
  fs.rmSync(extensions);
}
