// Written as an app's own unit test would be: the package by name, @nestjs/testing, no cluster.
import { processKeepAlive } from '../../../lib/core/keep-alive.js';
import 'reflect-metadata';
import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';
import {
  FencingToken,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from 'nestjs-kube-leader';
import { PrometheusElectionMetrics } from 'nestjs-kube-leader/metrics';
import {
  LeaderElectionTestingService,
  LeaderElectionTestingModule,
} from 'nestjs-kube-leader/testing';

/** The app's code under test: a leader-only job and a handler reacting to leadership changes. */
@Injectable()
class InvoiceJob {
  readonly charged: FencingToken[] = [];
  readonly changes: string[] = [];
  loop: Promise<string> | undefined;

  constructor(private readonly leader: LeaderService) {}

  @LeaderOnly()
  async chargeDueInvoices(): Promise<FencingToken> {
    const token = this.leader.fencingToken()!;
    this.charged.push(token);
    return token;
  }

  @OnLeaderChange()
  onChange(event: LeaderChangeEvent) {
    this.changes.push(event.isLeader ? 'leading' : `following ${event.leader}`);
    if (event.isLeader) this.loop = this.watchQueue(this.leader.leadershipSignal());
  }

  private watchQueue(signal: AbortSignal): Promise<string> {
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve('loop stopped'), { once: true }),
    );
  }
}

describe('LeaderElectionTestingModule (as an app would use it)', () => {
  let moduleRef: TestingModule;

  afterEach(async () => {
    await moduleRef?.close();
  });

  async function createModule(imports: unknown[]) {
    moduleRef = await Test.createTestingModule({
      imports: imports as [],
      providers: [InvoiceJob],
    }).compile();
    await moduleRef.init();
    return {
      job: moduleRef.get(InvoiceJob),
      leadership: moduleRef.get(LeaderElectionTestingService),
      leader: moduleRef.get(LeaderService),
    };
  }

  it('leads after init by default: @LeaderOnly work runs and handlers saw the change', async () => {
    const { job, leader } = await createModule([LeaderElectionTestingModule.forRoot()]);
    expect(leader.isLeader()).toBe(true);
    expect(leader.identity).toBe('test-instance');
    expect(await job.chargeDueInvoices()).toBeInstanceOf(FencingToken);
    expect(job.changes).toEqual(['leading']);
  });

  it('makes this instance lose and lead again; each change is applied when the promise resolves', async () => {
    const { job, leadership, leader } = await createModule([LeaderElectionTestingModule.forRoot()]);
    const firstTerm = leader.fencingToken()!;

    await leadership.loseLeadership();
    expect(leader.isLeader()).toBe(false);
    expect(leader.getLeader()).toBe('other-instance');
    expect(await job.loop).toBe('loop stopped'); // the leadership signal aborted
    expect(await job.chargeDueInvoices()).toBeUndefined(); // skipped on a follower

    expect(leader.fencingToken()).toBeNull();
    await leadership.becomeLeader();
    const secondTerm = await job.chargeDueInvoices();
    expect(job.charged).toEqual([secondTerm]);
    expect(secondTerm.isNewerThan(firstTerm)).toBe(true); // a new term: a higher fencing token
    expect(job.changes).toEqual(['leading', 'following other-instance', 'leading']);
  });

  it('starts as a follower with leader: false, and follows whoever the test names', async () => {
    const { job, leadership, leader } = await createModule([
      LeaderElectionTestingModule.forRoot({ leader: false, otherLeader: 'pod-a' }),
    ]);
    expect(leader.getLeader()).toBe('pod-a');
    expect(await job.chargeDueInvoices()).toBeUndefined();

    await leadership.setLeader('pod-b');
    expect(leader.getLeader()).toBe('pod-b');
    await leadership.setLeader(leader.identity);
    expect(leader.isLeader()).toBe(true);
    expect(job.changes).toEqual(['following pod-a', 'following pod-b', 'leading']);
  });

  it('drives several elections by name', async () => {
    const { leadership, leader } = await createModule([
      LeaderElectionTestingModule.forRoot(),
      LeaderElectionTestingModule.forRoot({ election: 'reports', leader: false }),
    ]);
    expect([leader.isLeader(), leader.isLeader('reports')]).toEqual([true, false]);
    await leadership.becomeLeader('reports');
    await leadership.loseLeadership();
    expect([leader.isLeader(), leader.isLeader('reports')]).toEqual([false, true]);
  });

  it('keeps the process alive with one timer while its elections run, and leaves nothing once closed', async () => {
    // The process's keep-alive (one ref'd timer while it has holders, see keep-alive.spec), not a
    // count of every timer: other code in the test process may start and end timers meanwhile.
    const before = processKeepAlive.holders;
    const { leadership } = await createModule([
      LeaderElectionTestingModule.forRoot(),
      LeaderElectionTestingModule.forRoot({ election: 'reports', leader: false }),
    ]);
    await leadership.becomeLeader('reports');
    await leadership.loseLeadership();
    const running = processKeepAlive.holders;
    await moduleRef.close();
    expect([running, processKeepAlive.holders]).toEqual([before + 2, before]);
  });

  it('gives each app its own in-memory Lease, even from one module definition', async () => {
    const definition = LeaderElectionTestingModule.forRoot();
    const first = await createModule([definition]);
    await first.leadership.loseLeadership();
    await moduleRef.close();
    const second = await createModule([definition]);
    expect(second.leader.isLeader()).toBe(true);
  });

  it('counts @LeaderOnly calls per method when given metrics', async () => {
    const registry = new Registry();
    const { job, leadership } = await createModule([
      LeaderElectionTestingModule.forRoot({
        metrics: new PrometheusElectionMetrics({ registry }),
      }),
    ]);
    await job.chargeDueInvoices();
    await leadership.loseLeadership();
    await job.chargeDueInvoices();
    await job.chargeDueInvoices();
    const text = await registry.metrics();
    expect(text).toContain(
      'leader_election_leader_only_calls_total{name="test-lease",method="InvoiceJob.chargeDueInvoices",outcome="executed"} 1',
    );
    expect(text).toContain(
      'leader_election_leader_only_calls_total{name="test-lease",method="InvoiceJob.chargeDueInvoices",outcome="skipped"} 2',
    );
    expect(text).toContain('leader_election_master_status{name="test-lease"} 0');
  });

  it('says what to do when the module was compiled but not initialized', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [LeaderElectionTestingModule.forRoot()],
      providers: [InvoiceJob],
    }).compile();
    const leadership = moduleRef.get(LeaderElectionTestingService);
    await expect(leadership.becomeLeader()).rejects.toThrow(
      /has not started: call `await moduleRef.init\(\)`/,
    );
  });

  it('rejects unknown options', () => {
    expect(() => LeaderElectionTestingModule.forRoot({ leeder: true } as never)).toThrow(
      /"leeder": is not an option of LeaderElectionTestingModule/,
    );
  });
});

// The skip of a follower is logged at debug level; keep the test output quiet.
Logger.overrideLogger(['error', 'warn']);
