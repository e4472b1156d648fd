// The files and command lines of a local control plane: static tokens, service-account key, audit
// policy, kubeconfigs, and the etcd and kube-apiserver flags (see control-plane-notes.md sections 3.3-3.5).
import { generateKeyPair, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { USER_NAMES } from './rbac.js';
import type { ControlPlaneState, ControlPlaneUser, StateDirLayout } from './state.js';

export function prepareStateDir(stateDir: string, layout: StateDirLayout): void {
  fs.mkdirSync(stateDir, { recursive: true });
  // Only what a previous run wrote here: the directory may also hold jest-<pid> state dirs.
  const owned = [
    layout.stateFile,
    layout.etcdDataDir,
    layout.certDir,
    layout.saKey,
    layout.saPub,
    layout.tokensFile,
    layout.auditPolicy,
    layout.auditLog,
    layout.etcdLog,
    layout.apiserverLog,
    ...Object.values(layout.kubeconfigs),
  ];
  for (const entry of owned) fs.rmSync(entry, { recursive: true, force: true });
  fs.mkdirSync(layout.certDir, { recursive: true, mode: 0o700 });
}

export function randomToken(): string {
  return randomBytes(24).toString('hex');
}

export async function writeSecrets(
  layout: StateDirLayout,
  tokens: Record<ControlPlaneUser, string>,
): Promise<void> {
  // Static token file: token,user,uid[,"group1,group2"] (k8s.io/apiserver tokenfile.go).
  const csv = [
    `${tokens.admin},${USER_NAMES.admin},uid-admin,"system:masters"`,
    `${tokens.leaseUser},${USER_NAMES.leaseUser},uid-lease-user`,
    `${tokens.leaseReader},${USER_NAMES.leaseReader},uid-lease-reader`,
  ];
  fs.writeFileSync(layout.tokensFile, csv.join('\n') + '\n', { mode: 0o600 });

  // Service-account signing key, generated in-process (no openssl needed).
  const { privateKey, publicKey } = await new Promise<{ privateKey: string; publicKey: string }>(
    (resolve, reject) =>
      generateKeyPair(
        'rsa',
        {
          modulusLength: 2048,
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        },
        (error, publicKey, privateKey) =>
          error ? reject(error) : resolve({ privateKey, publicKey }),
      ),
  );
  fs.writeFileSync(layout.saKey, privateKey, { mode: 0o600 });
  fs.writeFileSync(layout.saPub, publicKey);

  // Audit only Lease requests, one ResponseComplete event per request, so they can be counted per user.
  fs.writeFileSync(
    layout.auditPolicy,
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: ["RequestReceived"]',
      'rules:',
      '  - level: Metadata',
      '    resources:',
      '      - group: coordination.k8s.io',
      '        resources: ["leases"]',
      '  - level: None',
      '',
    ].join('\n'),
  );
}

type Ports = ControlPlaneState['ports'];

export function etcdArgs(layout: StateDirLayout, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=nkl-etcd',
    `--data-dir=${layout.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=nkl-etcd=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiserverArgs(layout: StateDirLayout, ports: Ports): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.kubeApiserver}`,
    `--cert-dir=${layout.certDir}`,
    `--service-account-issuer=https://127.0.0.1:${ports.kubeApiserver}`,
    `--service-account-signing-key-file=${layout.saKey}`,
    `--service-account-key-file=${layout.saPub}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--token-auth-file=${layout.tokensFile}`,
    `--audit-policy-file=${layout.auditPolicy}`,
    `--audit-log-path=${layout.auditLog}`,
    '--audit-log-mode=blocking',
  ];
}

/**
 * With --bind-address=127.0.0.1 kube-apiserver takes its advertise address from the default-route
 * interface, and exits if there is none; loopback is rejected for the "kubernetes" Endpoints. So: nothing
 * if there is a default route, else a non-loopback IPv4 of this host, else loopback with the endpoint
 * reconciler off. NKL_ADVERTISE_ADDRESS overrides.
 */
export function advertiseFlags(): { flags: string[]; address: string | null; note: string } {
  const override = process.env.NKL_ADVERTISE_ADDRESS;
  if (override) {
    // Loopback is valid for serving but not for the "kubernetes" Endpoints, which the reconciler would
    // then fail to write every 10 s ("may not be in the loopback range").
    const loopback = /^127\./.test(override) || override === '::1';
    return {
      flags: [
        `--advertise-address=${override}`,
        ...(loopback ? ['--endpoint-reconciler-type=none'] : []),
      ],
      address: override,
      note: `advertise address ${override} (NKL_ADVERTISE_ADDRESS)`,
    };
  }
  if (hasDefaultRoute()) {
    return {
      flags: [],
      address: null,
      note: 'default route present: kube-apiserver picks its advertise address',
    };
  }
  const candidate = Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  if (candidate) {
    return {
      flags: [`--advertise-address=${candidate.address}`],
      address: candidate.address,
      note: `no default route: advertising ${candidate.address}`,
    };
  }
  return {
    flags: ['--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none'],
    address: '127.0.0.1',
    note: 'no default route and no non-loopback IPv4: advertising 127.0.0.1 without endpoint reconciler',
  };
}

export function hasDefaultRoute(): boolean {
  const routes = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8').split('\n').slice(1);
    } catch {
      return [];
    }
  };
  // /proc/net/route: Iface Destination Gateway Flags ... Mask (hex); default = destination and mask 0.
  const ipv4 = routes('/proc/net/route').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[1] === '00000000' && fields[7] === '00000000';
  });
  // /proc/net/ipv6_route: destination, prefix length, ...; default = ::/0 on a non-loopback device.
  const ipv6 = routes('/proc/net/ipv6_route').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[0] === '0'.repeat(32) && fields[1] === '00' && fields[9] !== 'lo';
  });
  return ipv4 || ipv6;
}

export function writeKubeconfig(state: ControlPlaneState, user: ControlPlaneUser): void {
  const q = (value: string) => JSON.stringify(value); // a JSON string is a valid YAML scalar
  const userName = state.users[user];
  const clusterName = 'nkl-local';
  const contextName = `${userName}@${clusterName}`;
  if (!state.tls.caFile) throw new Error('the serving certificate has not been verified yet');
  const verification = `      certificate-authority-data: ${q(fs.readFileSync(state.tls.caFile).toString('base64'))}`;
  const lines = [
    '# Written by test/control-plane/control-plane.ts; valid while this control plane runs.',
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${clusterName}`,
    '    cluster:',
    `      server: ${q(state.server)}`,
    verification,
    'users:',
    `  - name: ${userName}`,
    '    user:',
    `      token: ${q(state.tokens[user])}`,
    'contexts:',
    `  - name: ${q(contextName)}`,
    '    context:',
    `      cluster: ${clusterName}`,
    `      user: ${userName}`,
    ...(user === 'admin' ? [] : [`      namespace: ${state.namespace}`]),
    `current-context: ${q(contextName)}`,
    '',
  ];
  fs.writeFileSync(state.kubeconfigs[user], lines.join('\n'), { mode: 0o600 });
}
