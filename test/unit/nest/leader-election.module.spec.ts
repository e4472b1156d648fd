import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Injectable, Module, Scope, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { firstValueFrom, toArray } from 'rxjs';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../../lib/index.js';
import { LockUnavailableError } from '../../../lib/core/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { BrokenWatcher, createNestApp } from '../../fixtures/nest-app.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

const FAST = { leaseDuration: 2_000, renewDeadline: 1_500, retryPeriod: 500 };

/** The shared Nest app (test/fixtures/nest-app.ts) on an in-memory Lease named `jobs`. */
async function createApp(
  store: InMemoryLeaseStore,
  identity: string,
  extra: { imports?: unknown[]; providers?: unknown[] } = {},
) {
  const logger = new RecordingLoggerService();
  const election = LeaderElectionModule.forRoot({
    leaseName: 'jobs',
    lock: new InMemoryLeaseLock(store, identity),
    logger,
    ...FAST,
  });
  const app = await createNestApp({
    name: identity,
    imports: [election, ...(extra.imports ?? [])],
    providers: extra.providers,
  });
  const runs = (job?: string) =>
    app.executions.filter((execution) => job === undefined || execution.job === job).length;
  return { ...app, logger, runs };
}

describe('LeaderElectionModule (in-memory lock)', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('elects the first app, gates plain calls, and keeps @Interval jobs registered in both decorator orders', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    apps.push(a.app);
    await a.leader.waitForLeadership();
    expect(a.leader.isLeader()).toBe(true);
    expect(a.leader.identity).toBe('a');
    expect(a.leader.fencingToken()?.toString()).toBe(store.current()?.resourceVersion);
    const intervals = a.app.get(SchedulerRegistry).getIntervals();
    expect(intervals).toEqual(expect.arrayContaining(['interval-below', 'interval-above']));
    expect(a.jobs.plain(21)).toBe(42);
  });

  it('answers followers 503 naming the leader (header and body) and leaders 200 over real HTTP', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    apps.push(a.app);
    await a.leader.waitForLeadership();
    const b = await createApp(store, 'b');
    apps.push(b.app);
    await eventually(() => b.leader.getLeader() === 'a');
    await a.app.listen(0, '127.0.0.1');
    await b.app.listen(0, '127.0.0.1');

    const ok = await fetch(`${await a.app.getUrl()}/jobs`, { method: 'POST' });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ ranOn: 'a' });

    const refused = await fetch(`${await b.app.getUrl()}/jobs`, { method: 'POST' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-leader')).toBe('a');
    expect(await refused.json()).toEqual(
      expect.objectContaining({ statusCode: 503, leader: 'a', election: 'default' }),
    );
    // Undecorated handlers are not gated.
    expect((await fetch(`${await b.app.getUrl()}/jobs/status`)).status).toBe(200);
  });

  it('delivers every change in order to @OnLeaderChange handlers and logs handler errors', async () => {
    const store = new InMemoryLeaseStore();
    const { Logger } = await import('@nestjs/common');
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => {
      errors.push(String(m));
    });
    const a = await createApp(store, 'a', { providers: [BrokenWatcher] });
    apps.push(a.app);
    await a.leader.waitForLeadership();
    store.adminWrite({ holderIdentity: 'intruder', leaseDurationSeconds: 1 });
    await eventually(() => a.watcher.events.length >= 2);
    await a.leader.waitForLeadership();
    expect(a.watcher.events.map((e) => [e.isLeader, e.leader])).toEqual([
      [true, 'a'],
      [false, 'intruder'],
      [true, 'a'],
    ]);
    spy.mockRestore();
    // The throwing handler was called for each of the three events, and each failure was logged.
    expect(
      errors.filter((line) => line.includes('BrokenWatcher.broken failed: handler bug')),
    ).toHaveLength(3);
  });

  it('aborts the leadership signal when leadership is lost', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    apps.push(a.app);
    await a.leader.waitForLeadership();
    const signal = a.leader.leadershipSignal();
    expect(signal.aborted).toBe(false);
    store.adminWrite({ holderIdentity: 'intruder', leaseDurationSeconds: 1 });
    await eventually(() => signal.aborted);
    expect(a.leader.isLeader()).toBe(false);
  });

  it('replays the current state to changes() subscribers', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    apps.push(a.app);
    await a.leader.waitForLeadership();
    const first = await firstValueFrom(a.leader.changes());
    expect(first).toEqual(expect.objectContaining({ isLeader: true, leader: 'a', lease: 'jobs' }));
  });

  it('waits for an in-flight leader-only call on close, then releases the lease and leaves no watch', async () => {
    const store = new InMemoryLeaseStore();
    const order: string[] = [];
    let finish!: () => void;
    @Injectable()
    class Slow {
      @LeaderOnly()
      async work() {
        order.push('work started');
        await new Promise<void>((resolve) => (finish = resolve));
        order.push('work finished');
      }
    }
    const a = await createApp(store, 'a', { providers: [Slow] });
    await a.leader.waitForLeadership();
    const running = a.app.get(Slow).work();
    const closing = a.app
      .close()
      .then(() => order.push(`closed, holder "${store.current()?.holderIdentity}"`));
    await eventually(() => order.length === 1);
    expect(store.current()?.holderIdentity).toBe('a');
    finish();
    await running;
    await closing;
    expect(order).toEqual(['work started', 'work finished', 'closed, holder ""']);
    expect(store.openWatches).toBe(0);
  });

  it('confirms leadership with one renew before each @LeaderOnly({ confirm: true }) run, and skips when it fails', async () => {
    const store = new InMemoryLeaseStore();
    const runs: string[] = [];
    @Injectable()
    class Payouts {
      @LeaderOnly({ confirm: true })
      payOut(id: string) {
        runs.push(id); // synchronous: the confirmed wrapper returns a Promise anyway
        return id;
      }

      @LeaderOnly()
      plain(id: string) {
        runs.push(id);
        return id;
      }
    }
    const a = await createApp(store, 'a', { providers: [Payouts] });
    const b = await createApp(store, 'b', { providers: [Payouts] });
    apps.push(a.app, b.app);
    await a.leader.waitForLeadership();
    const payouts = a.app.get(Payouts);
    const updates = () => store.count({ identity: 'a', operation: 'update' });

    let before = updates();
    expect(payouts.plain('plain')).toBe('plain');
    expect(updates()).toBe(before); // the plain gate makes no request
    before = updates();
    await expect(payouts.payOut('first')).resolves.toBe('first');
    expect(updates()).toBe(before + 1); // one renew, then the run

    // The renew fails (the API server is gone for a moment): the run is skipped.
    store.failNext('update', new LockUnavailableError('blip'), 'a');
    await expect(payouts.payOut('second')).resolves.toBeUndefined();
    // A follower skips it without a request.
    const bUpdates = store.count({ identity: 'b', operation: 'update' });
    await expect(b.app.get(Payouts).payOut('third')).resolves.toBeUndefined();
    expect(store.count({ identity: 'b', operation: 'update' })).toBe(bUpdates);
    expect(runs).toEqual(['plain', 'first']);
  });

  it('steps down through LeaderService: the other app takes over, the first does not take it back', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    const b = await createApp(store, 'b');
    apps.push(a.app, b.app);
    await a.leader.waitForLeadership();
    expect(await a.leader.stepDown()).toBe(true);
    await b.leader.waitForLeadership();
    expect(a.leader.isLeader()).toBe(false);
    expect(await a.leader.stepDown()).toBe(false); // not the leader any more
  });

  it('completes changes() when the app closes', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    await a.leader.waitForLeadership();
    const all = firstValueFrom(a.leader.changes().pipe(toArray()));
    await a.app.close();
    const events = await all;
    expect(events.at(-1)).toEqual(expect.objectContaining({ isLeader: false, leader: null }));
  });

  it('keeps two elections in one app independent, addressed by name', async () => {
    const storeA = new InMemoryLeaseStore();
    const storeB = new InMemoryLeaseStore();
    storeB.adminWrite({ holderIdentity: 'someone-else', leaseDurationSeconds: 3600 });
    const ran: string[] = [];
    @Injectable()
    class Named {
      @LeaderOnly('reports')
      report() {
        ran.push('report');
      }
      @LeaderOnly()
      main() {
        ran.push('main');
      }
    }
    const a = await createApp(storeA, 'a', {
      imports: [
        LeaderElectionModule.forRoot({
          election: 'reports',
          leaseName: 'reports',
          lock: new InMemoryLeaseLock(storeB, 'a-reports'),
          logger: false,
          ...FAST,
        }),
      ],
      providers: [Named],
    });
    apps.push(a.app);
    await a.leader.waitForLeadership();
    await eventually(() => a.leader.getLeader('reports') === 'someone-else');
    expect(a.leader.isLeader()).toBe(true);
    expect(a.leader.isLeader('reports')).toBe(false);
    expect(a.leader.getIdentity('reports')).toBe('a-reports');
    a.app.get(Named).report();
    a.app.get(Named).main();
    expect(ran).toEqual(['main']);
  });

  it('keeps two Nest apps in one process apart', async () => {
    const storeA = new InMemoryLeaseStore();
    const storeB = new InMemoryLeaseStore();
    storeB.adminWrite({ holderIdentity: 'other', leaseDurationSeconds: 3600 });
    const a = await createApp(storeA, 'a');
    const b = await createApp(storeB, 'b');
    apps.push(a.app, b.app);
    await a.leader.waitForLeadership();
    await eventually(() => b.leader.getLeader() === 'other');
    expect(a.jobs.plain(2)).toBe(4);
    expect(b.jobs.plain(2)).toBeUndefined();
  });

  it('warns about @LeaderOnly on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @LeaderOnly()
      run() {}
    }
    const store = new InMemoryLeaseStore();
    const warnings: string[] = [];
    const { Logger } = await import('@nestjs/common');
    const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => {
      warnings.push(String(m));
    });
    try {
      const a = await createApp(store, 'a', { providers: [PerRequest] });
      apps.push(a.app);
    } finally {
      spy.mockRestore();
    }
    expect(
      warnings.some(
        (w) => w.includes('PerRequest.run') && w.includes('request- or transient-scoped'),
      ),
    ).toBe(true);
  });
});

describe('LeaderElectionModule options', () => {
  async function bootstrapFails(options: Record<string, unknown>, decorated?: unknown) {
    @Module({
      imports: [LeaderElectionModule.forRoot({ logger: false, ...options } as never)],
      providers: decorated ? [decorated as never] : [],
    })
    class AppModule {}
    let error: unknown;
    try {
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.init().finally(() => app.close().catch(() => undefined));
    } catch (e) {
      error = e;
    }
    return error as Error;
  }

  const lock = () => new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a');

  it.each([
    [{ leaseName: 'Bad_Name' }, /"leaseName": must be a DNS-1123 subdomain.*"Bad_Name"/],
    [{ leaseName: '' }, /"leaseName": must be a DNS-1123 subdomain/],
    [
      { leaseName: 'ok', leaseDuration: 5_000, renewDeadline: 6_000 },
      /"leaseDuration": must be greater than renewDeadline/,
    ],
    [
      { leaseName: 'ok', retryPeriod: 9_000 },
      /"renewDeadline": must be greater than 1.2 \* retryPeriod/,
    ],
    [{ leaseName: 'ok', leaseDurationSec: 15 }, /"leaseDurationSec": is not an option/],
    [{ leaseName: 'ok', releaseOnShutdown: 'yes' }, /"releaseOnShutdown": must be a boolean/],
    [
      { leaseName: 'ok', namespace: 'Not A Namespace', kubeConfig: undefined },
      /"namespace": must be a DNS-1123 label/,
    ],
  ])('fails at bootstrap for %j', async (options, message) => {
    const needsLock = !('namespace' in options);
    const error = await bootstrapFails({ ...(needsLock ? { lock: lock() } : {}), ...options });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(message);
  });

  it('fails at bootstrap when a decorator names an unknown election', async () => {
    @Injectable()
    class Misnamed {
      @LeaderOnly('nope')
      run() {}
    }
    const error = await bootstrapFails({ leaseName: 'ok', lock: lock() }, Misnamed);
    expect(error.message).toMatch(/No leader election named "nope".*registered: "default"/);
  });

  it('rejects @LeaderOnly on a non-method', () => {
    expect(() => {
      class Target {
        value = 1;
      }
      LeaderOnly()(Target.prototype, 'value', undefined as never);
    }).toThrow(
      /@LeaderOnly\(\) can only decorate methods or classes, but Target.value is not a method/,
    );
  });

  it.each(['useFactory', 'useClass', 'useExisting'] as const)(
    'supports forRootAsync with %s',
    async (variant) => {
      const store = new InMemoryLeaseStore();
      const CONFIG = 'CONFIG';
      @Injectable()
      class OptionsFactory {
        createLeaderElectionOptions() {
          return {
            leaseName: 'async-lease',
            lock: new InMemoryLeaseLock(store, `async-${variant}`),
            logger: false as const,
          };
        }
      }
      @Module({
        providers: [{ provide: CONFIG, useValue: { lease: 'async-lease' } }, OptionsFactory],
        exports: [CONFIG, OptionsFactory],
      })
      class ConfigModule {}
      const asyncOptions =
        variant === 'useFactory'
          ? {
              imports: [ConfigModule],
              inject: [CONFIG],
              useFactory: (config: { lease: string }) => ({
                leaseName: config.lease,
                lock: new InMemoryLeaseLock(store, `async-${variant}`),
                logger: false as const,
              }),
            }
          : variant === 'useClass'
            ? { useClass: OptionsFactory }
            : { imports: [ConfigModule], useExisting: OptionsFactory };
      @Module({ imports: [LeaderElectionModule.forRootAsync(asyncOptions as never)] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.init();
      const leader = app.get(LeaderService);
      await leader.waitForLeadership();
      expect(leader.identity).toBe(`async-${variant}`);
      expect(store.current()?.holderIdentity).toBe(`async-${variant}`);
      await app.close();
      expect(store.current()?.holderIdentity).toBe('');
    },
  );

  it('blocks bootstrap until leading with waitForLeadership', async () => {
    const store = new InMemoryLeaseStore();
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: 'wait',
          lock: new InMemoryLeaseLock(store, 'w'),
          waitForLeadership: true,
          logger: false,
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.init();
    expect(app.get(LeaderService).isLeader()).toBe(true);
    await app.close();
  });
});
