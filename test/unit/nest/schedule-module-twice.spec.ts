// ScheduleModule.forRoot() imported by two modules makes two schedulers (Nest keys dynamic modules by
// reference), and each schedules every @Cron of the app: every job runs twice per tick. For a
// @LeaderOnly job that defeats the election, so the app refuses to start; otherwise it warns.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import {
  LeaderElectionError,
  LeaderElectionModule,
  LeaderOnly,
  SetupError,
} from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';

@Injectable()
class Billing {
  @Cron('0 * * * * *')
  @LeaderOnly()
  charge(): void {}
}

@Injectable()
class Cleanup {
  @Interval(60_000)
  sweep(): void {}
}

const election = () =>
  LeaderElectionModule.forRoot({
    leaseName: 'billing',
    lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'pod-a', 'billing'),
    logger: false,
  });

/** The README's shape: the root module and a feature module both import ScheduleModule.forRoot(). */
function twoSchedulers(providers: unknown[], schedule = ScheduleModule.forRoot()) {
  @Module({ imports: [ScheduleModule.forRoot()], providers: providers as never[] })
  class ReportsModule {}
  @Module({ imports: [schedule, election(), ReportsModule] })
  class AppModule {}
  return AppModule;
}

describe('ScheduleModule.forRoot() imported by two modules', () => {
  it('refuses to start when a @LeaderOnly job would be scheduled twice, naming the job and the modules', async () => {
    const logger = new RecordingLoggerService();
    const starting = NestFactory.createApplicationContext(twoSchedulers([Billing]), { logger });
    await expect(starting).rejects.toThrow(SetupError);
    await expect(starting).rejects.toBeInstanceOf(LeaderElectionError);
    await expect(starting).rejects.toThrow(
      '@LeaderOnly() Billing.charge (@Cron) would run 2 times per tick: ScheduleModule.forRoot() is ' +
        'imported 2 times (by AppModule, ReportsModule), and each import schedules every @Cron, @Interval ' +
        'and @Timeout of the app. Import ScheduleModule.forRoot() once, in the root module (it is global: ' +
        'the other modules need no import).',
    );
  });

  it('warns, naming the importing modules, when no @LeaderOnly job is scheduled', async () => {
    const logger = new RecordingLoggerService();
    const app = await NestFactory.createApplicationContext(twoSchedulers([Cleanup]), { logger });
    // Both schedulers did schedule the job: what the warning is about.
    const registries = app.get(SchedulerRegistry, { strict: false, each: true });
    expect(registries.map((registry) => registry.getIntervals().length)).toEqual([1, 1]);
    await app.close();
    expect(
      logger.lines.filter((line) => line.includes('ScheduleModule.forRoot() is imported')),
    ).toEqual([
      'warn ScheduleModule.forRoot() is imported 2 times (by AppModule, ReportsModule), and each import ' +
        'schedules every @Cron, @Interval and @Timeout of the app: each job runs 2 times per tick. Import ' +
        'ScheduleModule.forRoot() once, in the root module (it is global: the other modules need no import).',
    ]);
  });

  it('is fine when one ScheduleModule.forRoot() is imported by two modules (one scheduler)', async () => {
    const logger = new RecordingLoggerService();
    const schedule = ScheduleModule.forRoot();
    @Module({ imports: [schedule], providers: [Billing] })
    class ReportsModule {}
    @Module({ imports: [schedule, election(), ReportsModule] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger });
    await app.close();
    expect(logger.lines.filter((line) => line.includes('ScheduleModule.forRoot()'))).toEqual([]);
  });

  it('says nothing with one ScheduleModule.forRoot() in the root module', async () => {
    const logger = new RecordingLoggerService();
    @Module({ providers: [Billing, Cleanup] })
    class ReportsModule {}
    @Module({ imports: [ScheduleModule.forRoot(), election(), ReportsModule] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger });
    await app.close();
    expect(logger.lines.filter((line) => line.includes('ScheduleModule.forRoot()'))).toEqual([]);
  });
});
