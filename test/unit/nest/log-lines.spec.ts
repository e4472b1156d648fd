// What a user reads in a Nest app's log: a follower's skip line once per job and leader term (Nest's
// default logger prints debug lines, and a job every second would print one a second), a leader
// that waits out the first-election wait does not name itself as the leader it defers to, one
// default identity for all the elections of an app, and an option typo without `value: undefined`.
import 'reflect-metadata';
import net from 'node:net';
import { inspect } from 'node:util';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../../lib/index.js';
import {
  InMemoryLeaseLock,
  InMemoryLeaseStore,
  LeaderElectionTestingModule,
  LeaderElectionTestingService,
} from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

@Injectable()
class Jobs {
  @LeaderOnly()
  report(): void {}

  @LeaderOnly()
  sweep(): void {}
}

const skipLines = (logger: RecordingLoggerService) =>
  logger.lines.filter((line) => line.startsWith('debug Skipped'));

describe("a follower's skip lines", () => {
  it('say each job once per leader term, not once per call', async () => {
    const logger = new RecordingLoggerService();
    const moduleRef = await Test.createTestingModule({
      imports: [LeaderElectionTestingModule.forRoot({ leader: false, otherLeader: 'pod-b' })],
      providers: [Jobs],
    })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    try {
      const jobs = moduleRef.get(Jobs);
      for (let tick = 0; tick < 3; tick++) {
        jobs.report();
        jobs.sweep();
      }
      await moduleRef.get(LeaderElectionTestingService).setLeader('pod-c');
      jobs.report();
      jobs.report();
      const lease = 'in-memory lease test-lease';
      expect(skipLines(logger)).toEqual([
        `debug Skipped Jobs.report: this instance does not lead election "default" (${lease}, leader: pod-b; said once per job and term)`,
        `debug Skipped Jobs.sweep: this instance does not lead election "default" (${lease}, leader: pod-b; said once per job and term)`,
        `debug Skipped Jobs.report: this instance does not lead election "default" (${lease}, leader: pod-c; said once per job and term)`,
      ]);
    } finally {
      await moduleRef.close();
    }
  });

  it('during the first-election wait, do not name this instance as the leader', async () => {
    const store = new InMemoryLeaseStore();
    // A Lease that existed and was deleted: its creator cannot know that no old leader still runs.
    store.adminWrite({ holderIdentity: 'gone', leaseDurationSeconds: 2 });
    store.adminWrite(null);
    const logger = new RecordingLoggerService();
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: 'jobs',
          lock: new InMemoryLeaseLock(store, 'pod-a', 'jobs'),
          leaseDuration: 2_000,
          renewDeadline: 1_500,
          retryPeriod: 500,
        }),
      ],
      providers: [Jobs],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger });
    try {
      await eventually(() => store.current()?.holderIdentity === 'pod-a', 5_000, 'the create');
      expect(app.get(LeaderService).isLeader()).toBe(false);
      app.get(Jobs).report();
      expect(skipLines(logger)).toEqual([
        'debug Skipped Jobs.report: this instance does not lead election "default" yet (in-memory lease ' +
          'jobs): it holds the Lease and leads one lease duration after creating it, once no earlier ' +
          'leader can still be running (said once per job and term)',
      ]);
    } finally {
      await app.close();
    }
  });
});

describe('the default identity', () => {
  it('is one per app: every election has it, and LeaderService.identity says it', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'dev', server: `https://127.0.0.1:${port}` }],
      users: [{ name: 'dev', token: 'x' }],
      contexts: [{ name: 'dev', cluster: 'dev', user: 'dev', namespace: 'apps' }],
      currentContext: 'dev',
    });
    @Module({
      imports: [
        LeaderElectionModule.forRoot({ leaseName: 'billing', kubeConfig, logger: false }),
        LeaderElectionModule.forRoot({
          election: 'reports',
          leaseName: 'reports',
          shares: 2,
          kubeConfig,
          logger: false,
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    try {
      const leader = app.get(LeaderService);
      expect(leader.identity).toMatch(/_[0-9a-f]{8}$/);
      expect(leader.getIdentity('reports')).toBe(leader.identity);
    } finally {
      await app.close();
    }
  });
});

describe('an option that does not exist', () => {
  it('is named without a `value: undefined` beside it', async () => {
    @Module({
      imports: [
        LeaderElectionModule.forRoot({ leaseName: 'billing', leaseDurationSec: 15 } as never),
      ],
    })
    class AppModule {}
    const error = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect((error as Error).message).toMatch(
      /^Invalid leader election option "leaseDurationSec": is not an option of LeaderElectionModule/,
    );
    expect(inspect(error)).not.toContain('value: undefined');
  });
});
