// A running election keeps its process alive: workers (Nest application contexts with only the
// election module, nothing else holding the event loop) as child processes, with the API server
// unreachable from the start, cut off while they lead (a TCP proxy in front of the real
// kube-apiserver) and in local mode. They keep running and retrying until SIGTERM ends them with
// exit code 0; after app.close() nothing of ours is left and the process ends by itself.
// Every worker starts in beforeAll, so that their waits overlap (about 40 s in all).
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
/** When the close-tests' workers call app.close() (after start-up; each leads or retries by then). */
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

  /** SIGTERM ends the worker with exit code 0 within the shutdown grace, nothing of ours left. */
  async function terminates(name: string) {
    const w = worker(name);
    w.kill('SIGTERM');
    expect(await w.runningAfter(SHUTDOWN_GRACE)).toEqual({ code: 0, signal: null });
    expect(w.leftAfterClose()).toEqual([]);
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

  /**
   * app.close() after CLOSE_AFTER, then the process ends by itself (exit code 0, no process.exit())
   * within EXIT_AFTER_CLOSE, by its own clock, with nothing of ours left.
   */
  async function exitsAfterClose(name: string) {
    const w = worker(name);
    const closed = await w.waitWhileRunning((e) => e.event === 'closed', 60_000);
    expect(await w.runningAfter(60_000)).toEqual({ code: 0, signal: null });
    const exit = w.events.find((e) => e.event === 'exit')!;
    expect(exit.at - closed.at).toBeLessThanOrEqual(EXIT_AFTER_CLOSE);
    expect(w.leftAfterClose()).toEqual([]);
    return w.events;
  }

  beforeAll(async () => {
    cluster = loadCluster();
    const namespace = await cluster.uniqueNamespace('keep-alive');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-keep-alive-'));
    const kubeconfig = fs.readFileSync(cluster.kubeconfigPaths.leaseUser, 'utf8');
    const pointingAt = (file: string, port: number) => {
      const at = path.join(dir, file);
      fs.writeFileSync(at, kubeconfig.replace(/server: .*/, `server: "https://127.0.0.1:${port}"`));
      return at;
    };
    const nowhere = pointingAt('nowhere.kubeconfig', await closedPort());
    proxy = new TcpProxy(cluster.state.ports.kubeApiserver);
    const throughProxy = pointingAt('proxy.kubeconfig', await proxy.listen());
    const real = { KUBECONFIG: cluster.kubeconfigPaths.leaseUser, NAMESPACE: namespace };
    const scenarios: Record<string, Record<string, string>> = {
      unreachable: { KUBECONFIG: nowhere, NAMESPACE: namespace },
      'unreachable-spread': { KUBECONFIG: nowhere, NAMESPACE: namespace, SHARES: '2' },
      outage: { KUBECONFIG: throughProxy, NAMESPACE: namespace },
      local: { LOCAL: '1' },
      'close-leading': { ...real, CLOSE_AFTER_MS: CLOSE_AFTER },
      'close-spread': { ...real, SHARES: '2', CLOSE_AFTER_MS: CLOSE_AFTER },
      'close-retrying': { KUBECONFIG: nowhere, NAMESPACE: namespace, CLOSE_AFTER_MS: CLOSE_AFTER },
      'close-local': { LOCAL: '1', CLOSE_AFTER_MS: CLOSE_AFTER },
    };
    for (const [name, env] of Object.entries(scenarios)) {
      workers.set(name, startWorker(`keep-alive-${name}`, { ...env, LEASE: uniqueName(name) }));
    }
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

  it('after app.close() while it leads, ends by itself with nothing of ours left', async () => {
    const events = await exitsAfterClose('close-leading');
    const closed = events.findIndex((e) => e.event === 'closed');
    expect(events.slice(0, closed).some((e) => e.event === 'change' && e.isLeader)).toBe(true);
  });

  it('after app.close() of an election spread over shares, ends by itself with nothing of ours left', async () => {
    const events = await exitsAfterClose('close-spread');
    const led = new Set(
      events.filter((e) => e.event === 'change' && e.isLeader).map((e) => e.share),
    );
    expect([...led].sort()).toEqual([0, 1]);
  });

  it('after app.close() while retrying against an unreachable API server, ends by itself', async () => {
    await exitsAfterClose('close-retrying');
    expect(worker('close-retrying').retriesSince(0).length).toBeGreaterThan(1);
  });

  it('after app.close() in local mode, ends by itself', async () => {
    await exitsAfterClose('close-local');
  });

  it('keeps running and retrying while the API server is unreachable from the start; SIGTERM ends it', async () => {
    await keepsRetrying('unreachable');
    await terminates('unreachable');
  });

  it('the same for an election spread over shares (each share and the membership retry)', async () => {
    await keepsRetrying('unreachable-spread');
    const retried = worker('unreachable-spread').retriesSince(0);
    expect(retried.some((e) => e.message!.startsWith('membership'))).toBe(true);
    await terminates('unreachable-spread');
  });

  it('keeps running in local mode; SIGTERM ends it', async () => {
    const local = worker('local');
    expect(await local.runningAfter(unreachableSince.get('local')! + ALIVE_FOR - Date.now())).toBe(
      'running',
    );
    expect(local.events.some((e) => e.event === 'change' && e.isLeader)).toBe(true);
    await terminates('local');
  });

  it('keeps running and retrying through an outage that starts while it leads, leads again after it; SIGTERM ends it', async () => {
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
