// A running election keeps its process alive: workers (Nest application contexts with only the
// election module, nothing else holding the event loop) as child processes, with the API server
// unreachable from the start, cut off while they lead (a TCP proxy in front of the real
// kube-apiserver) and in local mode. They keep running and retrying until SIGTERM closes the app;
// after app.close() (on SIGTERM, or while leading) nothing of ours is left and the process ends by
// itself with exit code 0. Every worker starts in beforeAll, so that their waits overlap (about 50 s
// in all, most of it the 30 s the workers must stay up).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TcpProxy } from '../chaos/tcp-proxy.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { startWorker, type WorkerProcess } from '../support/worker-processes.js';

/** How long a worker must keep running (and retrying) without its API server. */
const ALIVE_FOR = 30_000;
/** The elections' shutdownGracePeriod (the default): SIGTERM must end a worker within it. */
const SHUTDOWN_GRACE = 10_000;
/** After app.close(), the process ends by itself within this. */
const EXIT_AFTER_CLOSE = 1_000;
/** When the workers that close while leading call app.close() (after start-up; they lead by then). */
const CLOSE_AFTER = '4000';

/** A loopback port nobody listens on (just released by us). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a running election keeps its process alive', () => {
  let cluster: Cluster;
  let dir: string;
  const workers = new Map<string, WorkerProcess>();
  let proxy: TcpProxy;
  /** When each worker's API server became unreachable (ms since the epoch). */
  const unreachableSince = new Map<string, number>();
  /** The outage worker's events from the outage on. */
  let outageFrom = 0;

  const worker = (name: string) => workers.get(name)!;
  const started = (name: string) =>
    worker(name).waitWhileRunning((e) => e.event === 'started', 60_000);

  /**
   * After app.close() (the fixture's, at CLOSE_AFTER_MS or on SIGTERM), nothing of ours is left and
   * the process ends by itself (exit code 0, no process.exit()) within EXIT_AFTER_CLOSE by its own
   * clock.
   */
  async function endsByItselfAfterClose(w: WorkerProcess, closedWithin: number) {
    const closed = await w.waitWhileRunning((e) => e.event === 'closed', closedWithin);
    expect(w.leftAfterClose()).toEqual([]);
    expect(await w.runningAfter(SHUTDOWN_GRACE)).toEqual({ code: 0, signal: null });
    const exit = w.events.find((e) => e.event === 'exit')!;
    expect(exit.at - closed.at).toBeLessThanOrEqual(EXIT_AFTER_CLOSE);
  }

  /** SIGTERM closes the app within the shutdown grace; then the process ends by itself. */
  async function terminates(name: string) {
    const w = worker(name);
    w.kill('SIGTERM');
    await endsByItselfAfterClose(w, SHUTDOWN_GRACE);
  }

  /** Still running ALIVE_FOR after its API server became unreachable, and still retrying. */
  async function keepsRetrying(name: string) {
    const w = worker(name);
    const since = unreachableSince.get(name)!;
    expect(await w.runningAfter(since + ALIVE_FOR - Date.now())).toBe('running');
    const retries = w.retriesSince(since);
    expect(retries.length).toBeGreaterThanOrEqual(10);
    // Retrying to the end, not only at first.
    expect(retries.at(-1)!.at).toBeGreaterThan(since + ALIVE_FOR - 5_000);
  }

  /** The worker's events once its app.close() at CLOSE_AFTER_MS let it end by itself. */
  async function closedAtCloseAfter(name: string) {
    const w = worker(name);
    await endsByItselfAfterClose(w, 60_000);
    return w.events;
  }

  beforeAll(async () => {
    cluster = loadCluster();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-keep-alive-'));
    const kubeconfig = fs.readFileSync(cluster.kubeconfigPaths.leaseUser, 'utf8');
    const pointingAt = (file: string, port: number) => {
      const at = path.join(dir, file);
      fs.writeFileSync(at, kubeconfig.replace(/server: .*/, `server: "https://127.0.0.1:${port}"`));
      return at;
    };
    const start = (name: string, env: Record<string, string>) =>
      workers.set(name, startWorker(`keep-alive-${name}`, { ...env, LEASE: uniqueName(name) }));
    // Those that never reach an API server start at once (their namespace is never looked at).
    const nowhere = { KUBECONFIG: pointingAt('nowhere.kubeconfig', await closedPort()) };
    start('unreachable', { ...nowhere, NAMESPACE: 'default' });
    start('unreachable-spread', { ...nowhere, NAMESPACE: 'default', SHARES: '2' });
    start('local', { LOCAL: '1' });
    const namespace = await cluster.uniqueNamespace('keep-alive');
    proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const throughProxy = pointingAt('proxy.kubeconfig', await proxy.listen());
    start('outage', { KUBECONFIG: throughProxy, NAMESPACE: namespace });
    const real = { KUBECONFIG: cluster.kubeconfigPaths.leaseUser, NAMESPACE: namespace };
    start('close-leading', { ...real, CLOSE_AFTER_MS: CLOSE_AFTER });
    start('close-spread', { ...real, SHARES: '2', CLOSE_AFTER_MS: CLOSE_AFTER });
    for (const name of ['unreachable', 'unreachable-spread', 'local']) {
      unreachableSince.set(name, (await started(name)).at);
    }
    // The outage starts once the worker leads (here, so that its wait overlaps the others').
    await worker('outage').waitWhileRunning((e) => e.event === 'change' && !!e.isLeader, 60_000);
    proxy.cutOff();
    unreachableSince.set('outage', Date.now());
    outageFrom = worker('outage').events.length;
  });

  afterAll(async () => {
    for (const w of workers.values()) w.kill('SIGKILL');
    await Promise.all([...workers.values()].map((w) => w.ended));
    await proxy?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('after app.close() while it leads, ends by itself within a second with nothing of ours left', async () => {
    const events = await closedAtCloseAfter('close-leading');
    const closed = events.findIndex((e) => e.event === 'closed');
    expect(events.slice(0, closed).some((e) => e.event === 'change' && e.isLeader)).toBe(true);
  });

  it('the same for an election spread over shares (its membership too)', async () => {
    const events = await closedAtCloseAfter('close-spread');
    const led = new Set(
      events.filter((e) => e.event === 'change' && e.isLeader).map((e) => e.share),
    );
    expect([...led].sort()).toEqual([0, 1]);
  });

  it('keeps running and retrying while the API server is unreachable from the start; SIGTERM closes it, then it ends by itself with code 0', async () => {
    await keepsRetrying('unreachable');
    await terminates('unreachable');
  });

  it('the same for an election spread over shares (each share and the membership retry)', async () => {
    await keepsRetrying('unreachable-spread');
    const retried = worker('unreachable-spread').retriesSince(0);
    expect(retried.some((e) => e.message!.startsWith('membership'))).toBe(true);
    await terminates('unreachable-spread');
  });

  it('keeps running in local mode; SIGTERM closes it, then it ends by itself with code 0', async () => {
    const local = worker('local');
    const until = unreachableSince.get('local')! + ALIVE_FOR;
    expect(await local.runningAfter(until - Date.now())).toBe('running');
    expect(local.events.some((e) => e.event === 'change' && e.isLeader)).toBe(true);
    await terminates('local');
  });

  it('keeps running and retrying through an outage that starts while it leads, leads again after it; SIGTERM closes it, then it ends by itself with code 0', async () => {
    const outage = worker('outage');
    const lost = await outage.waitWhileRunning(
      (e) => e.event === 'change' && e.isLeader === false,
      ALIVE_FOR,
      outageFrom,
    );
    expect(lost.at - unreachableSince.get('outage')!).toBeLessThan(ALIVE_FOR);
    await keepsRetrying('outage');
    proxy.restore();
    const since = outage.events.length;
    await outage.waitWhileRunning((e) => e.event === 'change' && !!e.isLeader, 30_000, since);
    await terminates('outage');
  });
});
