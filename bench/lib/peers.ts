// The Node peer: @codedependant/kubernetes-leader-election, the npm Lease elector a Node user would
// pick instead, installed as its users install it (`npm install` of the exact version, in its own
// folder bench/peers/codedependant/, outside the repository's lockfile) and run through a wrapper that
// prints the candidates' JSON lines (bench/peers/codedependant/candidate.mjs).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/candidates.js';
import type { Profile } from './context.js';

export const PEER_DIR = path.join(REPO_ROOT, 'bench', 'peers', 'codedependant');
const PEER_PACKAGE = '@codedependant/kubernetes-leader-election';

/** Installs the peer package unless its pinned version is there; returns the installed version. */
export function installPeer(log: (line: string) => void): string {
  const manifest = path.join(PEER_DIR, 'node_modules', PEER_PACKAGE, 'package.json');
  const wanted = (
    JSON.parse(fs.readFileSync(path.join(PEER_DIR, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies[PEER_PACKAGE];
  const installed = () =>
    fs.existsSync(manifest)
      ? (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version
      : undefined;
  if (installed() !== wanted) {
    log(`installing ${PEER_PACKAGE}@${wanted} in ${path.relative(REPO_ROOT, PEER_DIR)}`);
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], {
      cwd: PEER_DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return installed() ?? 'not installed';
}

/** The client-node version the peer runs on (its own dependency, not the repository's). */
export function peerClientNodeVersion(): string {
  const manifest = path.join(PEER_DIR, 'node_modules/@kubernetes/client-node/package.json');
  return fs.existsSync(manifest)
    ? (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version
    : 'not installed';
}

export interface PeerSpawn {
  kubeconfig: string;
  namespace: string;
  identity: string;
  lease: string;
  profile: Profile;
}

/** Starts one peer candidate (one elector per process: the library has no more). */
export function spawnPeer(options: PeerSpawn): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [path.join(PEER_DIR, 'candidate.mjs')], {
    cwd: PEER_DIR,
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: options.kubeconfig,
      // The library only talks to the API when this is set; it then loads KUBECONFIG.
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      NAMESPACE: options.namespace,
      LEASE: options.lease,
      IDENTITY: options.identity,
      LEASE_DURATION_MS: String(options.profile.leaseDuration),
      RETRY_PERIOD_MS: String(options.profile.retryPeriod),
    },
  });
}
