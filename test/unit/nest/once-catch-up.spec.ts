// A new leader's catch-up of a once job in a Nest app (in-memory Lease shared by two apps, one after
// the other): it runs the fires missed while no app ran, and honours what stops a job: `disabled`, a
// named job stopped through the SchedulerRegistry, and `initialDelay` (the catch-up waits for it).
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  type FireOutcome,
} from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { eventually } from '../../support/eventually.js';

type CronExtras = { disabled?: boolean; initialDelay?: number };

function reportsApp(store: InMemoryLeaseStore, identity: string, extras: CronExtras = {}) {
  @Injectable()
  class Reports {
    @Cron('* * * * * *', { name: 'reports', timeZone: 'UTC', ...extras })
    @LeaderOnly({ once: true, catchUp: 'all', job: 'reports' })
    run(): void {}
  }
  @Module({
    imports: [
      ScheduleModule.forRoot(),
      LeaderElectionModule.forRoot({
        leaseName: 'reports',
        lock: new InMemoryLeaseLock(store, identity, 'reports'),
        logger: false,
      }),
    ],
    providers: [Reports],
  })
  class AppModule {}
  return AppModule;
}

/** Runs app A for two fires, stops it (released, with its ledger), and waits until fires were missed. */
async function ledgerWithMissedFires(store: InMemoryLeaseStore): Promise<void> {
  const first = await NestFactory.createApplicationContext(reportsApp(store, 'a'), {
    logger: false,
  });
  const ran: FireOutcome[] = [];
  first
    .get(LeaderService)
    .fires()
    .subscribe((o) => ran.push(o));
  await eventually(() => ran.filter((o) => o.result === 'ran').length >= 2, 5_000);
  await first.close();
  const last = store.current()!.fires!.jobs.reports.at;
  await eventually(() => Date.now() >= last + 2_500, 5_000); // two or three fires nobody ran
}

async function start(store: InMemoryLeaseStore, extras: CronExtras = {}) {
  const app = await NestFactory.createApplicationContext(reportsApp(store, 'b', extras), {
    logger: false,
    abortOnError: false,
  });
  const outcomes: FireOutcome[] = [];
  app
    .get(LeaderService)
    .fires()
    .subscribe((o) => outcomes.push(o));
  return { app, outcomes, caughtUp: () => outcomes.filter((o) => o.result === 'caught-up') };
}

describe('catch-up of a once job in a Nest app', () => {
  it('runs the fires missed while no app ran, in order, before the next tick', async () => {
    const store = new InMemoryLeaseStore();
    await ledgerWithMissedFires(store);
    const b = await start(store);
    try {
      await eventually(() => b.outcomes.some((o) => o.result === 'ran'), 5_000);
      const results = b.outcomes.map((o) => o.result);
      expect(b.caughtUp().length).toBeGreaterThanOrEqual(2);
      expect(results.indexOf('ran')).toBeGreaterThan(results.lastIndexOf('caught-up'));
      const instants = b.outcomes.map((o) => o.scheduledAt.getTime());
      expect(instants).toEqual([...instants].sort((x, y) => x - y));
    } finally {
      await b.app.close();
    }
  });

  it('catches nothing up for a job stopped through the SchedulerRegistry or disabled', async () => {
    for (const stop of ['registry', 'disabled'] as const) {
      const store = new InMemoryLeaseStore();
      await ledgerWithMissedFires(store);
      const b = await start(store, stop === 'disabled' ? { disabled: true } : {});
      try {
        // Stopped right after the scheduler started it (the catch-up starts after bootstrap).
        if (stop === 'registry') b.app.get(SchedulerRegistry).getCronJob('reports').stop();
        const at = Date.now();
        await eventually(() => Date.now() >= at + 2_000, 3_000);
        expect({ stop, outcomes: b.outcomes }).toEqual({ stop, outcomes: [] });
      } finally {
        await b.app.close();
      }
    }
  });

  it('waits for initialDelay before catching up, as the job waits before its first tick', async () => {
    const store = new InMemoryLeaseStore();
    await ledgerWithMissedFires(store);
    const started = Date.now();
    const b = await start(store, { initialDelay: 1_500 });
    try {
      await eventually(() => b.caughtUp().length > 0, 5_000);
      const first = b.outcomes[0];
      expect(first.result).toBe('caught-up');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    } finally {
      await b.app.close();
    }
  });
});
