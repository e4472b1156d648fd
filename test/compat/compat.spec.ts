// The compatibility matrix (test/compat/matrix.ts): in every cell, the packed package is installed
// next to the cell's Nest, client-node and Node, a TypeScript app is compiled against the built
// declarations as an ES module and as CommonJS, and each build runs a real election between two
// replicas on the local control plane: the first leads and runs leader-only work, the second
// follows, takes over when the first shuts down (SIGTERM), and releases the Lease when it stops.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { JsonLineProcess } from '../support/json-lines.js';
import {
  compileApp,
  installCells,
  installedVersion,
  installTarball,
  listCells,
  nodeBinary,
  OPTIONAL_PEERS,
  packPackage,
  REPO_ROOT,
  run,
  runJest,
  type Cell,
  type Compiled,
} from './matrix.js';
import { CLI_PROJECTS, typeCheckReadme, type CliProject } from './readme.js';

interface AppEvent {
  event: string;
  [key: string]: unknown;
}

/** A consumer app: JSON-line events on stdout, commands on stdin answered by an event of their name. */
class ConsumerApp extends JsonLineProcess<AppEvent> {
  constructor(
    readonly identity: string,
    cell: Cell,
    entry: string,
    env: Record<string, string>,
  ) {
    super(
      identity,
      spawn(nodeBinary(cell), [entry], {
        cwd: cell.dir,
        env: { ...process.env, ...env, IDENTITY: identity },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  }

  async command(name: string): Promise<unknown> {
    const since = this.events.length;
    this.child.stdin!.write(`${name}\n`);
    const reply = await this.waitFor((e) => e.event === name || e.event === 'error', 30_000, since);
    if (reply.event === 'error') throw new Error(`${this.identity}: ${JSON.stringify(reply)}`);
    return reply.result;
  }

  leaderChange(leader: string, isLeader: boolean): Promise<AppEvent> {
    return this.waitFor(
      (e) => e.event === 'change' && e.leader === leader && e.isLeader === isLeader,
    );
  }

  indexOf(predicate: (e: AppEvent) => boolean): number {
    return this.events.findIndex(predicate);
  }
}

const cells = listCells();
let cluster: Cluster;
let namespace: string;
let workDir: string;
let tarball: string;

beforeAll(async () => {
  cluster = loadCluster();
  namespace = await cluster.uniqueNamespace('compat');
  installCells();
  workDir = fs.mkdtempSync(path.join(REPO_ROOT, '.control-plane', 'compat-'));
  tarball = packPackage(workDir);
}, 600_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('the packed package', () => {
  const unpacked = () => {
    const dir = path.join(workDir, 'unpacked');
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir);
      run('tar', ['xzf', tarball, '-C', dir, '--strip-components=1'], dir);
    }
    return dir;
  };

  it('ships the built output and the sources its source maps name, nothing else', () => {
    expect(fs.readdirSync(unpacked()).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist',
      'lib',
      'package.json',
    ]);
    const sources = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? sources(full) : [full];
      });
    expect(sources(path.join(unpacked(), 'lib')).filter((file) => !file.endsWith('.ts'))).toEqual(
      [],
    );
  });

  it.each(['index', 'core/index', 'kubernetes/index', 'testing/index'])(
    'declarations reachable from dist/%s.d.ts import no optional peer',
    (entry) => {
      const imported = bareImports(path.join(unpacked(), 'dist', `${entry}.d.ts`));
      expect(imported.filter((specifier) => OPTIONAL_PEERS.includes(specifier))).toEqual([]);
      // Only the required peers (and Node's built-ins) remain.
      for (const specifier of imported) {
        expect(specifier).toMatch(
          /^(node:.*|@nestjs\/common|@nestjs\/core|@kubernetes\/client-node|rxjs|reflect-metadata)$/,
        );
      }
    },
  );
});

describe('the declaration scan', () => {
  it('sees the optional peers where they are imported: dist/health and dist/metrics', () => {
    const dist = path.join(REPO_ROOT, 'dist');
    expect(bareImports(path.join(dist, 'health', 'index.d.ts'))).toContain('@nestjs/terminus');
    expect(bareImports(path.join(dist, 'metrics', 'index.d.ts'))).toContain('prom-client');
  });
});

describe.each(cells.map((cell) => [cell.name, cell] as const))('cell %s', (_name, cell) => {
  let compiled: Compiled;

  beforeAll(() => {
    installTarball(cell, tarball);
    compiled = compileApp(cell);
  }, 300_000);

  it('has the versions it pins, and the optional peers only where it pins them', () => {
    for (const pkg of ['@nestjs/common', '@nestjs/core', '@kubernetes/client-node']) {
      expect(`${pkg}@${installedVersion(cell, pkg)}`).toBe(`${pkg}@${cell.pinned[pkg]}`);
    }
    for (const peer of OPTIONAL_PEERS) {
      expect([peer, fs.existsSync(path.join(cell.dir, 'node_modules', peer))]).toEqual([
        peer,
        cell.optionalPeers,
      ]);
    }
    expect(installedVersion(cell, 'nestjs-kube-leader')).toBe(
      (
        JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
    );
  });

  // The README and docs/ as pasted into the Nest CLI's project of this cell's Nest major (where the
  // cell has the optional peers their blocks import).
  const readmeProject = cell.optionalPeers
    ? (`nest${cell.pinned['@nestjs/common'].split('.')[0]}` as CliProject)
    : undefined;
  if (readmeProject && readmeProject in CLI_PROJECTS) {
    it(`compiles every TypeScript block of the README and docs/ as pasted into a \`nest new\` project (${readmeProject})`, () => {
      const check = typeCheckReadme(cell, readmeProject);
      expect(check.files).toEqual(expect.arrayContaining(['src/app.module.ts', 'src/main.ts']));
      expect([check.status, check.output]).toEqual([0, '']);
    });
  }

  it("passes the README testing example as a user's jest test (ES module)", () => {
    const run = runJest(cell, compiled.testEsm);
    expect([run.status, run.passed, run.failed, run.status === 0 ? '' : run.output]).toEqual([
      0,
      1,
      0,
      '',
    ]);
  });

  // Jest's CommonJS runtime loads ES modules (this package, Nest 12, client-node) with require()
  // from Node 24.9 on; on Node 20, CommonJS test files need a transform (README, Testing your app).
  if (cell.nodeMajor >= 24) {
    it("passes the README testing example as a user's jest test (CommonJS)", () => {
      const run = runJest(cell, compiled.testCjs);
      expect([run.status, run.passed, run.failed, run.status === 0 ? '' : run.output]).toEqual([
        0,
        1,
        0,
        '',
      ]);
    });
  }

  it.each([
    ['an ES module app', 'esm', 'module'],
    ['a CommonJS app', 'cjs', 'commonjs'],
  ] as const)('runs a real election in %s', async (_label, kind, moduleKind) => {
    const lease = uniqueName(`${cell.name}-${kind}`);
    const env = {
      KUBECONFIG: cluster.kubeconfigPaths.leaseUser,
      NAMESPACE: namespace,
      LEASE: lease,
    };
    const entry = compiled[kind];
    // a reaches the API server through a proxy that counts its connections.
    const proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const kubeconfigA = path.join(workDir, `${cell.name}-${kind}-a.kubeconfig`);
    fs.writeFileSync(
      kubeconfigA,
      fs
        .readFileSync(env.KUBECONFIG, 'utf8')
        .replace(/server: .*/, `server: "https://127.0.0.1:${await proxy.listen()}"`),
    );
    const a = new ConsumerApp(`${kind}-a`, cell, entry, { ...env, KUBECONFIG: kubeconfigA });
    let b: ConsumerApp | undefined;
    try {
      const ready = await a.waitFor((e) => e.event === 'ready');
      expect([ready.node, ready.moduleKind]).toEqual([
        expect.stringMatching(new RegExp(`^v${cell.nodeMajor}\\.`)),
        moduleKind,
      ]);

      await a.leaderChange(a.identity, true);
      expect(await a.command('work')).toEqual({ result: 1, isLeader: true });
      // Two connections: the watch (a leader watches its Lease for edits by others) and one
      // kept-alive connection for the acquiring requests and five renews. client-node alone opens
      // one per request (1.x a new https.Agent, 2.x a new undici Agent each time).
      await renewals(lease, 5);
      expect(proxy.accepted).toBe(2);

      b = new ConsumerApp(`${kind}-b`, cell, entry, env);
      await b.leaderChange(a.identity, false);
      expect(await b.command('work')).toEqual({ result: null, isLeader: false });

      if (cell.optionalPeers) {
        expect(await a.command('health')).toEqual({
          election: expect.objectContaining({ status: 'up', role: 'leader', holder: a.identity }),
        });
        expect(await b.command('health')).toEqual({
          election: expect.objectContaining({ status: 'up', role: 'follower', holder: a.identity }),
        });
        expect(await a.command('metrics')).toEqual([{ labels: { name: lease }, value: 1 }]);
        expect(await b.command('metrics')).toEqual([{ labels: { name: lease }, value: 0 }]);
        // The leader-only @Cron job (every second) runs on the leader.
        await a.waitFor((e) => e.event === 'tick');
      }

      // SIGTERM: enableShutdownHooks closes the app (which releases the Lease), then Nest re-raises
      // the signal. b takes over.
      expect(await a.stop()).toEqual({ code: null, signal: 'SIGTERM' });
      expect(a.events.filter((e) => e.event === 'shutdown')).toEqual([
        { event: 'shutdown', signal: 'SIGTERM' },
      ]);
      await b.leaderChange(b.identity, true);
      expect(await b.command('work')).toEqual({ result: 1, isLeader: true });
      if (cell.optionalPeers) {
        await b.waitFor((e) => e.event === 'tick');
        expect(await b.command('metrics')).toEqual([{ labels: { name: lease }, value: 1 }]);
        // Ticks only while leading: none on b before it led, none on a after it stopped leading.
        const bLed = b.indexOf((e) => e.event === 'change' && e.isLeader === true);
        expect(b.indexOf((e) => e.event === 'tick')).toBeGreaterThan(bLed);
        const aStopped = a.indexOf((e) => e.event === 'change' && e.isLeader === false);
        expect(a.events.slice(aStopped).filter((e) => e.event === 'tick')).toEqual([]);
      }
      expect(await b.stop()).toEqual({ code: null, signal: 'SIGTERM' });
      expect(b.events.at(-1)).toEqual({ event: 'shutdown', signal: 'SIGTERM' });

      const record = await cluster.kubeConfigs.admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: lease, namespace });
      expect(record.spec?.holderIdentity ?? '').toBe('');
      // Nothing from the library on stderr. The cron package itself warns on stderr whenever its
      // timer fires late (even by 1 ms, on a loaded machine); that says nothing about the library.
      const ours = (lines: string[]) => lines.filter((l) => !CRON_LATE_TIMER.test(l));
      expect([ours(a.stderr), ours(b.stderr)]).toEqual([[], []]);
    } finally {
      a.kill('SIGKILL');
      b?.kill('SIGKILL');
      await proxy.close();
    }
  });
});

/** cron's own warning when the event loop delays a tick (printed by the cron package). */
const CRON_LATE_TIMER = /^\[Cron\] Missed execution deadline by \d+ms for job/;

/** Resolves once the Lease's renewTime has taken `count` more values (read every 100 ms). */
async function renewals(lease: string, count: number): Promise<void> {
  const api = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
  const seen = new Set<string>();
  const first = (await api.readNamespacedLease({ name: lease, namespace })).spec?.renewTime;
  const deadline = Date.now() + 60_000;
  while (seen.size < count) {
    if (Date.now() > deadline) throw new Error(`${lease}: ${seen.size} renewals in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const renewTime = (await api.readNamespacedLease({ name: lease, namespace })).spec?.renewTime;
    if (renewTime && String(renewTime) !== String(first)) seen.add(String(renewTime));
  }
}

/**
 * Bare module specifiers imported by a declaration file and, transitively, by the relative
 * declaration files it imports.
 */
function bareImports(entry: string): string[] {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) {
        pending.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.d.ts')));
      } else {
        bare.add(
          specifier.startsWith('@')
            ? specifier.split('/').slice(0, 2).join('/')
            : specifier.split('/')[0],
        );
      }
    }
  }
  return [...bare].sort();
}
