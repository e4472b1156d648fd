// @LeaderOnly({ once: true }) in a Nest app with @nestjs/schedule, on the in-memory Lease: each fire
// is claimed before it runs, knows its scheduled instant inside the run, and is published as an
// outcome; misuse fails at bootstrap naming the method and the rule.
import 'reflect-metadata';
import { Injectable, Module, Controller, Get } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule } from '@nestjs/schedule';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  SetupError,
  type FireOutcome,
  type FireRun,
} from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { eventually } from '../../support/eventually.js';

const runs: (FireRun | undefined)[] = [];

@Injectable()
class Reports {
  constructor(private readonly leader: LeaderService) {}

  @Cron('* * * * * *', { timeZone: 'Europe/Berlin' })
  @LeaderOnly({ once: true, catchUp: 'all' })
  async everySecond(): Promise<void> {
    await Promise.resolve();
    runs.push(this.leader.currentRun());
  }
}

function app(providers: unknown[], controllers: unknown[] = []) {
  @Module({
    imports: [
      ScheduleModule.forRoot(),
      LeaderElectionModule.forRoot({
        leaseName: 'reports',
        lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'pod-a', 'reports'),
        logger: false,
      }),
    ],
    providers: providers as never[],
    controllers: controllers as never[],
  })
  class AppModule {}
  return AppModule;
}

describe('@LeaderOnly({ once: true })', () => {
  it('claims each fire in the Lease and runs it once, knowing its scheduled instant', async () => {
    runs.length = 0;
    const nest = await NestFactory.createApplicationContext(app([Reports]), { logger: false });
    const outcomes: FireOutcome[] = [];
    nest
      .get(LeaderService)
      .fires()
      .subscribe((outcome) => outcomes.push(outcome));
    await nest.init();
    try {
      await eventually(() => runs.length >= 2, 5_000);
      for (const run of runs) {
        expect(run).toMatchObject({ job: 'Reports.everySecond', catchUp: false });
        expect(run!.scheduledAt.getMilliseconds()).toBe(0);
        expect(run!.key).toBe(`Reports.everySecond@${run!.scheduledAt.toISOString()}`);
      }
      const instants = runs.map((run) => run!.scheduledAt.getTime());
      expect(new Set(instants).size).toBe(instants.length);
      expect(outcomes.filter((o) => o.result === 'ran').length).toBeGreaterThanOrEqual(2);
      expect(nest.get(LeaderService).currentRun()).toBeUndefined();
    } finally {
      await nest.close();
    }
  });

  it('refuses once on @Interval, on a handler, and with confirm, naming the rule', async () => {
    @Injectable()
    class Sweeper {
      @Interval(60_000)
      @LeaderOnly({ once: true })
      sweep(): void {}
    }
    await expect(
      NestFactory.createApplicationContext(app([Sweeper]), { logger: false }),
    ).rejects.toThrow(/once applies only to @Cron methods \(found @Interval\)/);

    @Controller()
    class Admin {
      @Get()
      @LeaderOnly({ once: true })
      run(): void {}
    }
    await expect(
      NestFactory.createApplicationContext(app([], [Admin]), { logger: false }),
    ).rejects.toThrow(/a request handler has no scheduled fires/);

    expect(() => LeaderOnly({ once: true, confirm: true })).toThrow(SetupError);
    expect(() => LeaderOnly({ once: true })(class Jobs {})).toThrow(/on the class Jobs/);
    expect(() => LeaderOnly({ catchUp: 'all' })).toThrow(/only with once: true/);
    expect(() => LeaderOnly({ once: true, catchUpWindow: 8 * 24 * 3600 * 1000 })).toThrow(
      /catchUpWindow.*7 days/,
    );
  });
});
