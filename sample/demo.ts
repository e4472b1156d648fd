// `npm run demo`: three replicas of the sample app elect a leader on a real kube-apiserver; the
// leader is killed, another takes over; the failover and handover times are measured and printed;
// everything is stopped at the end.
//
//   npm run demo                      # local control plane (built on first use), demo timings
//   npm run demo -- --use-kubeconfig  # the current kubeconfig (KUBECONFIG / ~/.kube/config) instead
//   npm run demo -- --default-timings # 15 s / 10 s / 2 s instead of the demo's 4 s / 3 s / 1 s
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
} from '../test/control-plane/control-plane.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const timings = args.has('--default-timings')
  ? { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 }
  : { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 1_000 };

const color = (code: number, text: string) =>
  process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text;
const t0 = Date.now();
const say = (text: string) =>
  console.log(`${color(90, `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`)} ${text}`);

interface Replica {
  name: string;
  port: number;
  child: ChildProcess;
  exited: boolean;
  reconciles: number;
}

interface Status {
  identity: string;
  isLeader: boolean;
  leader: string | null;
}

async function main() {
  let controlPlane: ControlPlane | undefined;
  let kubeconfig: string;
  let namespace: string | undefined;
  const stateDir = path.join(ROOT, '.control-plane', 'demo');
  const replicas: Replica[] = [];

  const cleanup = async () => {
    for (const replica of replicas) if (!replica.exited) replica.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => waitForExit(r, 15_000)));
    if (controlPlane) {
      await stopControlPlane(stateDir);
      say('stopped the local control plane');
    }
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js')) || args.has('--build')) {
      say('building the library (npm run build) ...');
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (build.status !== 0) throw new Error('npm run build failed');
    }

    if (args.has('--use-kubeconfig')) {
      kubeconfig = process.env.KUBECONFIG ?? path.join(process.env.HOME ?? '', '.kube', 'config');
      say(`using the current kubeconfig ${kubeconfig} (its context's namespace)`);
    } else {
      say(
        'starting a local kube-apiserver + etcd (the first run builds them from Go modules: minutes) ...',
      );
      await stopControlPlane(stateDir).catch(() => []);
      controlPlane = await startControlPlane({ stateDir, log: (line) => say(color(90, line)) });
      kubeconfig = controlPlane.kubeconfigs.leaseUser;
      namespace = controlPlane.namespace;
      say(
        `control plane ready at ${controlPlane.server}; replicas use the least-privilege user "lease-user"`,
      );
    }

    const lease = `demo-${Date.now().toString(36)}`;
    say(
      `lease ${color(1, lease)}: leaseDuration ${timings.leaseDuration} ms, renewDeadline ${timings.renewDeadline} ms, retryPeriod ${timings.retryPeriod} ms`,
    );
    for (const name of ['replica-a', 'replica-b', 'replica-c']) {
      replicas.push(await startReplica(name, lease, kubeconfig, namespace));
    }

    // Live view: who leads, as each replica reports it.
    let shown = '';
    const view = setInterval(async () => {
      const statuses = await Promise.all(replicas.map((r) => status(r)));
      const line = replicas
        .map((r, i) => {
          const s = statuses[i];
          if (r.exited) return `${r.name}: ${color(90, 'down')}`;
          if (!s) return `${r.name}: ${color(90, '...')}`;
          return `${r.name}: ${s.isLeader ? color(32, 'LEADER') : `follows ${s.leader?.split('_')[0] ?? 'none'}`}`;
        })
        .join('   ');
      if (line !== shown) {
        shown = line;
        say(line);
      }
    }, 100);

    const first = await waitForLeader(replicas, 60_000);
    say(`${color(1, first.name)} leads; its reconcile job runs every 2 s, the others skip it`);
    await waitUntil(() => first.reconciles >= 2, 20_000);

    // Crash failover.
    say(color(31, `SIGKILL ${first.name} (a crash: the lease is not released)`));
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    const second = await waitForLeader(
      replicas.filter((r) => r !== first),
      60_000,
    );
    const failover = Date.now() - killedAt;
    say(
      `${color(1, second.name)} took over ${color(33, `${failover} ms`)} after the crash (lease duration ${timings.leaseDuration} ms)`,
    );
    await waitUntil(() => second.reconciles >= 2, 20_000);

    // Graceful handover.
    say(
      color(33, `SIGTERM ${second.name} (graceful: finishes leader work, then releases the lease)`),
    );
    const termAt = Date.now();
    second.child.kill('SIGTERM');
    const third = await waitForLeader(
      replicas.filter((r) => r !== first && r !== second),
      60_000,
    );
    const handover = Date.now() - termAt;
    say(`${color(1, third.name)} took over ${color(32, `${handover} ms`)} after SIGTERM`);
    await waitUntil(() => third.reconciles >= 1, 20_000);
    clearInterval(view);

    const total = replicas.map((r) => `${r.name} ${r.reconciles}`).join(', ');
    console.log('');
    console.log(color(1, 'Summary'));
    console.log(
      `  crash failover (SIGKILL -> new leader):   ${failover} ms  (bounded by the lease duration, ${timings.leaseDuration} ms)`,
    );
    console.log(
      `  graceful handover (SIGTERM -> new leader): ${handover} ms  (one watch event after the release)`,
    );
    console.log(`  reconcile runs per replica: ${total} (only ever on the leader)`);
    console.log('');
  } finally {
    await cleanup();
  }
}

async function startReplica(
  name: string,
  lease: string,
  kubeconfig: string,
  namespace?: string,
): Promise<Replica> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'sample/src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        ...(namespace ? { NAMESPACE: namespace } : {}),
        LEASE_NAME: lease,
        POD_NAME: name,
        PORT: String(port),
        HOST: '127.0.0.1',
        LEASE_DURATION_MS: String(timings.leaseDuration),
        RENEW_DEADLINE_MS: String(timings.renewDeadline),
        RETRY_PERIOD_MS: String(timings.retryPeriod),
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const replica: Replica = { name, port, child, exited: false, reconciles: 0 };
  const log = fs.createWriteStream(path.join(ROOT, '.control-plane', `demo-${name}.log`));
  child.stdout?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    const text = chunk.toString();
    for (const match of text.matchAll(/reconcile #\d+/g)) {
      replica.reconciles += 1;
      say(color(36, `  ${name}: ${match[0]}`));
    }
  });
  child.stderr?.pipe(log);
  child.on('exit', () => (replica.exited = true));
  return replica;
}

async function status(replica: Replica): Promise<Status | undefined> {
  if (replica.exited) return undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${replica.port}/leader`, {
      signal: AbortSignal.timeout(500),
    });
    return (await response.json()) as Status;
  } catch {
    return undefined;
  }
}

async function waitForLeader(candidates: Replica[], timeoutMs: number): Promise<Replica> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const replica of candidates) {
      const s = await status(replica);
      if (s?.isLeader) return replica;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `no leader among ${candidates.map((r) => r.name).join(', ')} within ${timeoutMs} ms`,
  );
}

async function waitUntil(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

function waitForExit(replica: Replica, timeoutMs: number): Promise<void> {
  if (replica.exited) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      replica.child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    replica.child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
