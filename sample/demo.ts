// `npm run demo`: three replicas of the sample app elect a leader on a real kube-apiserver; the
// leader is killed, another takes over; the leader is stopped gracefully, another takes over; then a
// rolling update replaces the three replicas. The failover and handover times, and how often
// leadership moved during the rollout, are measured and printed; everything is stopped at the end.
//
//   npm run demo                      # local control plane (built on first use), demo timings
//   npm run demo -- --use-kubeconfig  # the current kubeconfig (KUBECONFIG / ~/.kube/config) instead
//   npm run demo -- --default-timings # 15 s / 10 s / 2 s instead of the demo's 4 s / 3 s / 1 s
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
} from '../test/control-plane/control-plane.js';
import { freeLoopbackPort } from '../test/control-plane/processes.js';

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
  exitedAt?: number;
  reconciles: number;
  /** Its own leader-change reports (its @OnLeaderChange log lines), timed on arrival here. */
  leading: { at: number; isLeader: boolean }[];
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
      // Replicas stopped a while ago leave the view.
      const listed = replicas.filter((r) => !r.exitedAt || Date.now() - r.exitedAt < 5_000);
      const statuses = await Promise.all(listed.map((r) => status(r)));
      const line = listed
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
    // As a Deployment does, a replacement starts at once (the rollout below needs three replicas).
    // It is up when the next term begins, as replica-e below is: of the rollout's old replicas,
    // none joined the term late, which is what ranks a follower first as the successor.
    replicas.push(await startReplica('replica-d', lease, kubeconfig, namespace));
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
    replicas.push(await startReplica('replica-e', lease, kubeconfig, namespace));
    const third = await waitForLeader(
      replicas.filter((r) => r !== first && r !== second),
      60_000,
    );
    const handover = Date.now() - termAt;
    say(`${color(1, third.name)} took over ${color(32, `${handover} ms`)} after SIGTERM`);
    const thirdLeadsSince = Date.now();
    await waitUntil(() => third.reconciles >= 1, 20_000);

    const rollout = await rollingUpdate({
      replicas,
      leader: third,
      leaderSince: thirdLeadsSince,
      start: (name) => startReplica(name, lease, kubeconfig, namespace),
    });
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
    console.log(
      `  rolling update (3 replicas replaced):      leadership moved ${times(rollout.moves)}, longest time without a leader ${rollout.leaderlessMs} ms`,
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
  const port = await freeLoopbackPort();
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
  const replica: Replica = { name, port, child, exited: false, reconciles: 0, leading: [] };
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
  // The sample's LeaderChange lines: "<id> is now the leader of ..." / "<id> does not lead ...".
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.includes('[LeaderChange]')) return;
    if (line.includes(' is now the leader of '))
      replica.leading.push({ at: Date.now(), isLeader: true });
    else if (line.includes(' does not lead '))
      replica.leading.push({ at: Date.now(), isLeader: false });
  });
  child.on('exit', () => {
    replica.exited = true;
    replica.exitedAt = Date.now();
    replica.leading.push({ at: replica.exitedAt, isLeader: false });
  });
  return replica;
}

/**
 * A rolling update as a Deployment does it (maxSurge 1, maxUnavailable 0): three times, a new
 * replica starts, the demo waits until its /leader names the leader and one retry period more (its
 * watch counts as steady after one), then SIGTERMs an old replica: the leader while it is old. It
 * starts once the leader has led one lease duration, so that the new replicas join a term well under
 * way, as in a cluster (a follower that joined the term late ranks first as its successor). Measured from the replicas' own leader-change reports: how
 * many times leadership moved, and the longest time nobody led.
 */
async function rollingUpdate(options: {
  replicas: Replica[];
  leader: Replica;
  leaderSince: number;
  start: (name: string) => Promise<Replica>;
}): Promise<{ moves: number; leaderlessMs: number }> {
  const { replicas, leader, leaderSince, start } = options;
  const old = replicas.filter((r) => !r.exited);
  for (const follower of old) if (follower !== leader) await waitForFollower(follower, old, 60_000);
  const established = leaderSince + timings.leaseDuration + timings.retryPeriod;
  await sleep(established - Date.now());
  say(
    color(
      33,
      `rolling update: ${old.map((r) => r.name).join(', ')} replaced one at a time (a new replica follows, then SIGTERM of an old one, the leader first)`,
    ),
  );
  const from = Date.now();
  const fresh: Replica[] = [];
  for (const name of ['replica-f', 'replica-g', 'replica-h']) {
    const next = await start(name);
    replicas.push(next);
    fresh.push(next);
    const current = await waitForFollower(next, replicas, 60_000);
    await sleep(timings.retryPeriod + 500);
    const victim = old.includes(current) && !current.exited ? current : old.find((r) => !r.exited)!;
    say(
      `  ${next.name} follows ${current.name}; SIGTERM ${victim.name}${victim === current ? ' (the leader)' : ''}`,
    );
    victim.child.kill('SIGTERM');
    await waitForExit(victim, 15_000);
  }
  const last = await waitForLeader(fresh, 60_000);
  const { leaders, leaderlessMs } = leadership(replicas, leader, from, Date.now());
  say(
    `rolling update done: leadership moved ${color(1, times(leaders.length - 1))} (${leaders.map((r) => r.name).join(' -> ')}), longest time without a leader ${color(32, `${leaderlessMs} ms`)}; ${last.name} leads`,
  );
  return { moves: leaders.length - 1, leaderlessMs };
}

/** The leaders in [from, to] in order (the first led at `from`) and the longest time nobody led. */
function leadership(
  replicas: Replica[],
  leader: Replica,
  from: number,
  to: number,
): { leaders: Replica[]; leaderlessMs: number } {
  const reports = replicas
    .flatMap((replica) => replica.leading.map((report) => ({ replica, ...report })))
    .filter((report) => report.at >= from && report.at <= to)
    .sort((a, b) => a.at - b.at);
  const leaders = [leader];
  const leading = new Set([leader]);
  let leaderlessSince: number | undefined;
  let leaderlessMs = 0;
  for (const { replica, at, isLeader } of reports) {
    if (isLeader) {
      if (leaderlessSince !== undefined)
        leaderlessMs = Math.max(leaderlessMs, at - leaderlessSince);
      leaderlessSince = undefined;
      leading.add(replica);
      if (leaders.at(-1) !== replica) leaders.push(replica);
    } else if (leading.delete(replica) && leading.size === 0) {
      leaderlessSince = at;
    }
  }
  return { leaders, leaderlessMs };
}

/** Waits until `replica`'s /leader names a replica that says it leads; returns that leader. */
async function waitForFollower(
  replica: Replica,
  replicas: Replica[],
  timeoutMs: number,
): Promise<Replica> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const named = (await status(replica))?.leader;
    for (const candidate of replicas) {
      if (candidate === replica || !named) continue;
      const s = await status(candidate);
      if (s?.isLeader && s.identity === named) return candidate;
    }
    await sleep(50);
  }
  throw new Error(`${replica.name} did not follow a leader within ${timeoutMs} ms`);
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
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

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
