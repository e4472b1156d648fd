// Mistakes that otherwise show only much later, said once at start-up: a scheduled @LeaderOnly job
// without ScheduleModule (it never runs), and a Lease that SIGTERM will not release (no shutdown hooks).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule } from '@nestjs/schedule';
import type { LeaseLock } from '../../../lib/core/index.js';
import { LeaderElectionModule, LeaderOnly } from '../../../lib/index.js';
import { SHUTDOWN_HOOKS_CHECK_DELAY } from '../../../lib/leader-election.runner.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';

@Injectable()
class Jobs {
  @Cron('0 * * * * *')
  @LeaderOnly()
  charge(): void {}

  @LeaderOnly()
  @Interval(60_000)
  sweep(): void {}
}

/** A lock shared like a Kubernetes Lease would be (not the in-memory lock of tests and local mode). */
function sharedLock(): LeaseLock {
  const inner = new InMemoryLeaseLock(new InMemoryLeaseStore(), 'pod-a', 'jobs');
  return {
    identity: inner.identity,
    description: 'lease ns/jobs',
    get: (options) => inner.get(options),
    create: (spec, options) => inner.create(spec, options),
    update: (spec, version, options) => inner.update(spec, version, options),
    watch: (handlers, options) => inner.watch(handlers, options),
  };
}

async function start(imports: unknown[], providers: unknown[], logger: RecordingLoggerService) {
  @Module({ imports: imports as never[], providers: providers as never[] })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger });
}

describe('a scheduled @LeaderOnly job', () => {
  const warning = (decorator: string, key: string) =>
    `warn @LeaderOnly() Jobs.${key} has ${decorator}, but no ScheduleModule is imported: it never runs. ` +
    "Import ScheduleModule.forRoot() from '@nestjs/schedule'.";

  it('without ScheduleModule is named at start-up, with its decorator', async () => {
    const logger = new RecordingLoggerService();
    const app = await start(
      [LeaderElectionModule.forRoot({ leaseName: 'jobs', lock: sharedLock(), logger: false })],
      [Jobs],
      logger,
    );
    await app.close();
    expect(logger.lines).toContain(warning('@Cron', 'charge'));
    expect(logger.lines).toContain(warning('@Interval', 'sweep'));
  });

  it('with ScheduleModule.forRoot() says nothing', async () => {
    const logger = new RecordingLoggerService();
    const app = await start(
      [
        ScheduleModule.forRoot(),
        LeaderElectionModule.forRoot({ leaseName: 'jobs', lock: sharedLock(), logger: false }),
      ],
      [Jobs],
      logger,
    );
    await app.close();
    expect(logger.lines.filter((line) => line.includes('no ScheduleModule'))).toEqual([]);
  });
});

describe('releasing on SIGTERM', () => {
  const said = (lines: string[]) =>
    lines.filter((line) => line.includes('Nothing handles SIGTERM'));
  const afterTheCheck = () =>
    new Promise((resolve) => setTimeout(resolve, SHUTDOWN_HOOKS_CHECK_DELAY + 300));
  let saved: NodeJS.SignalsListener[] = [];

  beforeEach(() => {
    // Whatever the test runner registered is not the app's: start from none.
    saved = process.listeners('SIGTERM') as NodeJS.SignalsListener[];
    process.removeAllListeners('SIGTERM');
  });
  afterEach(() => {
    process.removeAllListeners('SIGTERM');
    for (const listener of saved) process.on('SIGTERM', listener);
  });

  it('says nothing when the app enabled shutdown hooks after it was created', async () => {
    const logger = new RecordingLoggerService();
    const app = await start(
      [LeaderElectionModule.forRoot({ leaseName: 'jobs', lock: sharedLock(), logger })],
      [],
      new RecordingLoggerService(),
    );
    app.enableShutdownHooks();
    await afterTheCheck();
    await app.close();
    expect(said(logger.lines)).toEqual([]);
  });

  it('warns once when nothing handles SIGTERM, naming the fix', async () => {
    const logger = new RecordingLoggerService();
    const app = await start(
      [LeaderElectionModule.forRoot({ leaseName: 'jobs', lock: sharedLock(), logger })],
      [],
      new RecordingLoggerService(),
    );
    await afterTheCheck();
    await app.close();
    expect(said(logger.lines)).toEqual([
      'warn Nothing handles SIGTERM, so it will not release "jobs": another replica then takes over one ' +
        'lease duration later instead of at once. Call app.enableShutdownHooks() after creating the app ' +
        '(or set releaseOnShutdown: false to silence this).',
    ]);
  });
});
