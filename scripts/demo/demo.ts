// `npm run demo`: three replicas of the sample app elect a leader on a real kube-apiserver; the
// leader is killed, another takes over; the leader is stopped gracefully, another takes over; then a
// rolling update replaces the three replicas. The failover and handover times, and how often
// leadership moved during the rollout, are measured and printed. Every replica also runs the sample's
// second election, `reports` (6 jobs spread over 6 shares); after the rollout the demo shows which
// replica runs which job, then how the jobs move, and how long each move took, when one replica is
// stopped gracefully, when another joins and when one is killed. Everything is stopped at the end.
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
} from '../../test/control-plane/control-plane.js';
import { freeLoopbackPort } from '../../test/control-plane/processes.js';
import {
  DOES_NOT_LEAD,
  DOES_NOT_RUN_SHARE,
  LEADER_CHANGE_CONTEXT,
  LEADS,
  RECONCILE_CONTEXT,
  RECONCILED,
  REPORT_SHARES_CONTEXT,
  RUNS_SHARE,
} from '../../sample/src/sample.messages.js';
import { rollingUpdate as driveRollingUpdate } from '../../test/support/rolling-update.js';
import { shareOf } from '../../lib/core/index.js';
import { HANDING_SHARE_OVER } from '../../lib/core/spread/spread.messages.js';
import { lineReader } from './log-lines.js';
import { REPORTS, REPORTS_SHARES, reportsLeaseName } from '../../sample/src/reports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = new Set(process.argv.slice(2));
const timings = args.has('--default-timings')
  ? { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 }
  : { leaseDuration: 4_000, renewDeadline: 3_000, retryPeriod: 1_000 };

// The sample's lines the demo follows, read by the functions that write them.
const RECONCILED_LINE = lineReader(RECONCILE_CONTEXT, RECONCILED);
const LEADS_LINE = lineReader(LEADER_CHANGE_CONTEXT, LEADS);
const DOES_NOT_LEAD_LINE = lineReader(LEADER_CHANGE_CONTEXT, DOES_NOT_LEAD);
const RUNS_SHARE_LINE = lineReader(REPORT_SHARES_CONTEXT, RUNS_SHARE);
const HANDING_SHARE_OVER_LINE = lineReader(`LeaderElection:${REPORTS}`, HANDING_SHARE_OVER);
const DOES_NOT_RUN_SHARE_LINE = lineReader(REPORT_SHARES_CONTEXT, DOES_NOT_RUN_SHARE);

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

/** A replica's own report that it started or stopped running a share of `reports`. */
interface ShareReport {
  replica: Replica;
  share: number;
  isLeader: boolean;
  at: number;
}

/** Every replica's share reports, in order of arrival. */
const shareReports: ShareReport[] = [];

/** The library's "handing share <i> ... over to <identity>" lines: each share handed on purpose. */
const handovers: { replica: Replica; share: number; successor: string; at: number }[] = [];

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

    const spread = await spreadJobs({
      replicas,
      leader: rollout.leader,
      lease: reportsLeaseName(lease),
      start: (name) => startReplica(name, lease, kubeconfig, namespace),
    });

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
    const row = (label: string, value: string) => console.log(`  ${label.padEnd(42)}${value}`);
    row(
      'report jobs per replica:',
      `${spread.perReplica} (${spread.jobs} jobs over ${REPORTS_SHARES} shares)`,
    );
    for (const step of spread.steps) row(`${step.title}:`, step.summary);
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
  child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
  child.stderr?.pipe(log);
  // The sample's own lines (src/sample.messages.ts): reconciles and its @OnLeaderChange reports.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const reconciled = RECONCILED_LINE(line);
    if (reconciled) {
      replica.reconciles += 1;
      say(color(36, `  ${name}: reconcile #${reconciled[0]}`));
    }
    const runs = RUNS_SHARE_LINE(line);
    const share = runs ?? DOES_NOT_RUN_SHARE_LINE(line);
    if (share) {
      shareReports.push({ replica, share: Number(share[1]), isLeader: !!runs, at: Date.now() });
    }
    // The library's own line of a share handover, read by the function that writes it.
    const handover = HANDING_SHARE_OVER_LINE(line);
    if (handover) {
      const [share, , successor] = handover;
      handovers.push({ replica, share: Number(share), successor: successor!, at: Date.now() });
    }
    if (LEADS_LINE(line)) replica.leading.push({ at: Date.now(), isLeader: true });
    else if (DOES_NOT_LEAD_LINE(line)) replica.leading.push({ at: Date.now(), isLeader: false });
  });
  child.on('exit', () => {
    replica.exited = true;
    replica.exitedAt = Date.now();
    replica.leading.push({ at: replica.exitedAt, isLeader: false });
    // A replica that exits runs no share, whether it said so (SIGTERM) or not (SIGKILL).
    for (const share of sharesOf(replica, replica.exitedAt)) {
      shareReports.push({ replica, share, isLeader: false, at: replica.exitedAt });
    }
  });
  return replica;
}

/**
 * A rolling update as a Deployment does it (test/support/rolling-update.ts): three times, a new
 * replica starts, the demo waits until its /leader names the leader and one retry period more (its
 * watch counts as steady after one), then SIGTERMs an old replica: the leader while it is old. It
 * starts once the leader has led one lease duration, so that the new replicas join a term well under
 * way, as in a cluster (a follower that joined the term late ranks first as its successor). Measured
 * from the replicas' own leader-change reports: how many times leadership moved, and the longest
 * time nobody led.
 */
async function rollingUpdate(options: {
  replicas: Replica[];
  leader: Replica;
  leaderSince: number;
  start: (name: string) => Promise<Replica>;
}): Promise<{ moves: number; leaderlessMs: number; leader: Replica }> {
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
  const names = ['replica-f', 'replica-g', 'replica-h'];
  const fresh: Replica[] = [];
  await driveRollingUpdate<Replica>({
    old,
    start: async (step) => {
      const next = await start(names[step]!);
      replicas.push(next);
      fresh.push(next);
      return next;
    },
    follows: (next) => waitForFollower(next, replicas, 60_000),
    readyMs: timings.retryPeriod + 500,
    beforeStop: ({ fresh: next, leader: current, victim, victimWasLeader }) =>
      say(
        `  ${next.name} follows ${current?.name ?? 'none'}; SIGTERM ${victim.name}${victimWasLeader ? ' (the leader)' : ''}`,
      ),
    stop: async (victim) => {
      victim.child.kill('SIGTERM');
      await waitForExit(victim, 15_000);
    },
  });
  const last = await waitForLeader(fresh, 60_000);
  const { leaders, leaderlessMs } = leadership(replicas, leader, from, Date.now());
  say(
    `rolling update done: leadership moved ${color(1, times(leaders.length - 1))} (${leaders.map((r) => r.name).join(' -> ')}), longest time without a leader ${color(32, `${leaderlessMs} ms`)}; ${last.name} leads`,
  );
  return { moves: leaders.length - 1, leaderlessMs, leader: last };
}

/** A job that moved from one replica to another. */
interface Move {
  job: string;
  share: number;
  from: Replica | undefined;
  to: Replica;
  /** ms from the event (SIGTERM, the join) to the new replica's report that it runs the share. */
  ms: number;
  /** ms between the old replica's report that it stopped running the share and the new one's. */
  gapMs: number;
  /** When the old replica stopped running the share (its report), ms since the epoch. */
  stoppedAt: number;
}

/**
 * The sample's `reports` election on the rollout's three replicas: 6 jobs, one per share. Waits
 * until the shares are evenly led and prints which replica runs which job; then kills one replica,
 * starts another and stops a third gracefully, and after each prints how the jobs moved. Each time
 * is measured from the replicas' own share reports (their @OnLeaderChange log lines).
 */
async function spreadJobs(options: {
  replicas: Replica[];
  leader: Replica;
  lease: string;
  start: (name: string) => Promise<Replica>;
}): Promise<{
  jobs: number;
  perReplica: string;
  steps: { title: string; summary: string }[];
}> {
  const { replicas, leader, lease, start } = options;
  const live = replicas.filter((r) => !r.exited);
  const owners = await waitForEvenShares(live, 60_000);
  // The jobs, as the replicas' /reports endpoint lists them; each job's share by the library's rule.
  const answer = await fetch(`http://127.0.0.1:${live[0]!.port}/reports`);
  const jobs = ((await answer.json()) as { jobs: { job: string }[] }).jobs.map((j) => j.job);
  const jobsOn = (share: number) => jobs.filter((job) => shareOf(job, REPORTS_SHARES) === share);
  say(
    color(
      33,
      `reports: ${jobs.length} jobs spread over ${REPORTS_SHARES} shares (Leases ${lease}-share-0..${REPORTS_SHARES - 1}), each run by its share's leader:`,
    ),
  );
  const width = Math.max(...live.map((r) => r.name.length));
  const perReplica: string[] = [];
  for (const replica of live) {
    const shares = owners.flatMap((owner, share) => (owner === replica ? [share] : []));
    const run = shares.flatMap(jobsOn);
    perReplica.push(`${replica.name} ${run.length}`);
    say(
      `  ${replica.name.padEnd(width)}  ${run.join(', ').padEnd(30)} ${color(90, `(shares ${shares.join(', ')})`)}`,
    );
  }

  const steps: { title: string; summary: string }[] = [];
  /**
   * Waits until the shares are even again on `after`; prints and sums up the moves since `from`.
   * A move neither from nor to `cause` (the replica that went or came) evens out the shares.
   */
  const moved = async (
    title: string,
    cause: Replica,
    from: number,
    since: string,
    after: Replica[],
    note = '',
  ) => {
    await waitForEvenShares(after, 60_000);
    const moves = movesSince(from, jobsOn);
    for (const move of moves) {
      const named = namedSuccessor(move, replicas);
      const note =
        named && named !== move.to
          ? ` (handed to ${named.name}, which ${named.exited ? 'is gone' : 'did not take it'})`
          : move.from === cause || move.to === cause
            ? ''
            : ' (evening out the shares)';
      say(`${describeMove(move, since, width)}${color(90, note)}`);
    }
    steps.push({ title, summary: `${summarize(moves)}${note}` });
    return moves;
  };

  // A graceful stop: the stopped replica finishes its running jobs and releases its shares.
  const stopped = live.find((r) => r !== leader)!;
  let running = live.filter((r) => r !== stopped);
  say(
    color(
      33,
      `SIGTERM ${stopped.name} (graceful): it finishes its running jobs, releases its shares and leaves the membership`,
    ),
  );
  const termAt = Date.now();
  stopped.child.kill('SIGTERM');
  await moved(
    `a replica stopped (SIGTERM ${stopped.name})`,
    stopped,
    termAt,
    'after SIGTERM',
    running,
  );

  // A replica joins, as a Deployment replaces the stopped one: the others hand it shares.
  const joiner = await start('replica-i');
  replicas.push(joiner);
  const joinedAt = await answersReports(joiner, 60_000);
  running = [...running, joiner];
  say(
    color(
      33,
      `${joiner.name} joins: the replicas above their quota (${REPORTS_SHARES} shares / ${running.length} replicas) hand it shares, naming it as successor`,
    ),
  );
  await moved(`a replica joined (${joiner.name})`, joiner, joinedAt, 'after it joined', running);

  // A crash: the killed replica's shares expire, the others take them; its jobs wait until then,
  // the others' jobs run on. It stays listed as a member until its entry expires: each survivor
  // hands it one share, sees that it does not take it, and hands it none after that.
  const killed = running.find((r) => r !== leader && r !== joiner)!;
  running = running.filter((r) => r !== killed);
  say(
    color(
      31,
      `SIGKILL ${killed.name} (a crash): its jobs wait for their shares' Leases to expire (${timings.leaseDuration} ms); the other jobs run on`,
    ),
  );
  const killedAt = Date.now();
  killed.child.kill('SIGKILL');
  await moved(
    `a replica killed (SIGKILL ${killed.name})`,
    killed,
    killedAt,
    'after SIGKILL',
    running,
    ` (bounded by the lease duration, ${timings.leaseDuration} ms)`,
  );
  return { jobs: jobs.length, perReplica: perReplica.join(', '), steps };
}

/** One line: how many jobs moved, the longest time to the move, the longest time without a runner. */
function summarize(moves: Move[]): string {
  if (moves.length === 0) return 'no job moved';
  const count = `${moves.length} job${moves.length === 1 ? '' : 's'} moved`;
  const last = Math.max(...moves.map((m) => m.ms));
  const gap = Math.max(...moves.map((m) => m.gapMs));
  return `${count}, the last after ${last} ms; each job at most ${gap} ms without a runner`;
}

/** The replica that `move.from` named as successor when it handed the share over, if it did. */
function namedSuccessor(move: Move, replicas: Replica[]): Replica | undefined {
  // Logged just before it stepped down, which is when it stopped running the share.
  const handover = handovers.findLast(
    (h) =>
      h.replica === move.from && h.share === move.share && Math.abs(h.at - move.stoppedAt) <= 1_000,
  );
  return replicas.find((r) => handover?.successor.startsWith(`${r.name}_`));
}

function describeMove(move: Move, since: string, width: number): string {
  return `  ${move.job.padEnd(15)} ${move.from?.name.padEnd(width) ?? 'none'.padEnd(width)} -> ${move.to.name.padEnd(width)}  ${color(32, `${move.ms} ms`)} ${since}, ${move.gapMs} ms without a runner`;
}

/** The shares `replica` runs at `at`, by its own reports. */
function sharesOf(replica: Replica, at = Date.now()): number[] {
  const running = new Set<number>();
  for (const report of shareReports) {
    if (report.replica !== replica || report.at > at) continue;
    if (report.isLeader) running.add(report.share);
    else running.delete(report.share);
  }
  return [...running].sort((a, b) => a - b);
}

/**
 * Waits until each share is run by exactly one of `live`, each runs `floor` or `ceil` of the shares,
 * and no share report came for one retry period (the balance is checked that often). Returns each
 * share's replica.
 */
async function waitForEvenShares(live: Replica[], timeoutMs: number): Promise<Replica[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owners: Replica[][] = Array.from({ length: REPORTS_SHARES }, () => []);
    for (const replica of live) for (const share of sharesOf(replica)) owners[share]!.push(replica);
    const counts = live.map((r) => owners.filter((o) => o.includes(r)).length);
    const quiet = Date.now() - (shareReports.at(-1)?.at ?? 0) >= timings.retryPeriod;
    if (
      quiet &&
      owners.every((o) => o.length === 1) &&
      Math.max(...counts) - Math.min(...counts) <= 1
    ) {
      return owners.map((o) => o[0]!);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the reports shares were not evenly led by ${live.map((r) => r.name).join(', ')} within ${timeoutMs} ms`,
      );
    }
    await sleep(50);
  }
}

/** The jobs that moved since `from`, in order: each start of a share by another replica. */
function movesSince(from: number, jobsOn: (share: number) => string[]): Move[] {
  const moves: Move[] = [];
  for (let share = 0; share < REPORTS_SHARES; share += 1) {
    const reports = shareReports.filter((r) => r.share === share);
    let runner = reports.filter((r) => r.at < from).findLast((r) => r.isLeader)?.replica;
    let stoppedAt: number | undefined;
    for (const report of reports.filter((r) => r.at >= from)) {
      if (!report.isLeader) {
        if (report.replica === runner) stoppedAt ??= report.at;
        continue;
      }
      if (report.replica !== runner) {
        for (const job of jobsOn(share)) {
          moves.push({
            job,
            share,
            from: runner,
            to: report.replica,
            ms: report.at - from,
            gapMs: report.at - (stoppedAt ?? report.at),
            stoppedAt: stoppedAt ?? report.at,
          });
        }
      }
      runner = report.replica;
      stoppedAt = undefined;
    }
  }
  return moves.sort((a, b) => a.ms - b.ms);
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

/**
 * When `replica` first answers /reports (its `reports` election runs from start-up on), polling
 * until `timeoutMs`; the time of the last try if it never does.
 */
async function answersReports(replica: Replica, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !replica.exited) {
    try {
      const response = await fetch(`http://127.0.0.1:${replica.port}/reports`, {
        signal: AbortSignal.timeout(500),
      });
      if (response.ok) return Date.now();
    } catch {
      // Not listening yet.
    }
    await sleep(25);
  }
  return Date.now();
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
