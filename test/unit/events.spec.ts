import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { LeaderChangeEvent } from '../../lib/core/index.js';
import { createElection } from '../../lib/election.factory.js';
import { InMemoryLeaseLock, InMemoryLeaseStore, InvalidOptionError } from '../../lib/index.js';
import { LeaseEventRecorder } from '../../lib/kubernetes/index.js';
import { RecordingLogger } from './support/election-fixture.js';

interface Received {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** A stand-in API server that answers every request with `status` and records what it got. */
class FakeApiServer {
  readonly received: Received[] = [];
  status = 201;
  /** Statuses to answer first, in order, before `status`. */
  readonly next: number[] = [];
  private server: Server = createServer((request, response) => this.handle(request, response));

  async listen(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'user', token: 'token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'user' }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      this.received.push({ method: request.method!, url: request.url!, body });
      const status = this.next.shift() ?? this.status;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          status < 300
            ? body
            : {
                kind: 'Status',
                status: 'Failure',
                code: status,
                message: `events is forbidden: User "lease-user" cannot create resource "events" in API group "" in the namespace "ns"`,
              },
        ),
      );
    });
  }
}

function change(isLeader: boolean): LeaderChangeEvent {
  return {
    lease: 'billing',
    identity: 'pod-a',
    isLeader,
    leader: isLeader ? 'pod-a' : 'pod-b',
    previousLeader: null,
    fencingToken: 1,
    at: new Date(),
  };
}

describe('LeaseEventRecorder', () => {
  let api: FakeApiServer;
  let kubeConfig: KubeConfig;

  beforeEach(async () => {
    api = new FakeApiServer();
    kubeConfig = await api.listen();
  });

  afterEach(async () => {
    await api.close();
  });

  it("records client-go's Events on the Lease when this instance starts and stops leading", async () => {
    const recorder = new LeaseEventRecorder({
      kubeConfig,
      namespace: 'ns',
      leaseName: 'billing',
      identity: 'pod-a',
      leaseUid: () => 'uid-1',
    });
    recorder.onLeaderChange(change(false)); // the first state, following: nothing to say
    recorder.onLeaderChange(change(true));
    recorder.onLeaderChange(change(true)); // the leader changed elsewhere: no new Event
    recorder.onLeaderChange(change(false));
    await recorder.flush();

    expect(api.received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/v1/namespaces/ns/events',
      'POST /api/v1/namespaces/ns/events',
    ]);
    const [became, stopped] = api.received.map((r) => r.body);
    expect(became).toEqual(
      expect.objectContaining({
        metadata: { name: expect.stringMatching(/^billing\.[0-9a-f]+$/), namespace: 'ns' },
        involvedObject: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          name: 'billing',
          namespace: 'ns',
          uid: 'uid-1',
        },
        reason: 'LeaderElection',
        message: 'pod-a became leader',
        type: 'Normal',
        source: { component: 'nestjs-kube-leader' },
        reportingComponent: 'nestjs-kube-leader',
        reportingInstance: 'pod-a',
        count: 1,
      }),
    );
    expect(stopped).toEqual(expect.objectContaining({ message: 'pod-a stopped leading' }));
    expect((became.metadata as { name: string }).name).not.toBe(
      (stopped.metadata as { name: string }).name,
    );
  });

  it('retries a transient failure (same Event name) and records the Event once', async () => {
    api.next.push(503, 500);
    const logger = new RecordingLogger();
    const recorder = new LeaseEventRecorder({
      kubeConfig,
      namespace: 'ns',
      leaseName: 'billing',
      identity: 'pod-a',
      logger,
      retryDelays: [10, 10],
    });
    recorder.record('pod-a became leader');
    await recorder.flush();
    const names = api.received.map((r) => (r.body.metadata as { name: string }).name);
    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(1);
    expect(logger.lines).toEqual([]);
  });

  it('gives up retrying when closed', async () => {
    api.status = 503;
    const recorder = new LeaseEventRecorder({
      kubeConfig,
      namespace: 'ns',
      leaseName: 'billing',
      identity: 'pod-a',
      retryDelays: [60_000],
    });
    recorder.record('pod-a stopped leading');
    await recorder.flush(200);
    recorder.close();
    await recorder.flush();
    expect(api.received).toHaveLength(1);
  });

  it('logs a failure once, with the RBAC rule to add, and never throws', async () => {
    api.status = 403;
    const logger = new RecordingLogger();
    const recorder = new LeaseEventRecorder({
      kubeConfig,
      namespace: 'ns',
      leaseName: 'billing',
      identity: 'pod-a',
      logger,
    });
    recorder.record('pod-a became leader');
    recorder.record('pod-a stopped leading');
    await recorder.flush();
    expect(logger.at('warn')).toEqual([
      expect.stringMatching(
        /Could not record Event "pod-a (became leader|stopped leading)" on lease ns\/billing \(HTTP 403: events is forbidden.*\)\. Grant it with a Role rule \{ apiGroups: \[""\], resources: \["events"\], verbs: \["create"\] \} in "ns"\. The election is not affected/,
      ),
    ]);
    expect(logger.at('debug')).toHaveLength(1);
  });
});

describe('module options for operability', () => {
  const lock = () => new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a');

  it.each([
    ['events: "yes"', { events: 'yes' }, 'events', 'must be a boolean or { component?: string }'],
    ['an empty component', { events: { component: '' } }, 'events', 'must be a boolean'],
    ['an unknown events key', { events: { source: 'x' } }, 'events', 'must be a boolean'],
    [
      'events with a custom lock',
      { events: true },
      'events',
      'cannot be combined with a custom "lock"',
    ],
    ['metrics: true', { metrics: true }, 'metrics', 'must be an ElectionMetrics object'],
  ])('rejects %s, naming the option', (_label, options, option, rule) => {
    let error: unknown;
    try {
      createElection({ leaseName: 'billing', lock: lock(), ...(options as object) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(rule);
  });

  it('accepts events: false with a custom lock', () => {
    expect(() =>
      createElection({ leaseName: 'billing', lock: lock(), events: false }),
    ).not.toThrow();
  });
});
