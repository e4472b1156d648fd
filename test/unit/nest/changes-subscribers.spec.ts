// A changes() subscriber that throws must not crash the process: rxjs would re-throw its error from
// a timer (an uncaught exception), so every replica would crash in turn as it takes over.
import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { config, filter, map } from 'rxjs';
import { LeaderElectionModule, LeaderService, type LeaderChangeEvent } from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

const FAST = { leaseDuration: 2_000, renewDeadline: 1_500, retryPeriod: 500 };

async function createApp(store: InMemoryLeaseStore, identity: string) {
  const logger = new RecordingLoggerService();
  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        election: 'billing',
        leaseName: 'jobs',
        lock: new InMemoryLeaseLock(store, identity),
        logger,
        ...FAST,
      }),
    ],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, logger, leader: app.get(LeaderService) };
}

describe('changes() subscribers that throw', () => {
  const apps: INestApplication[] = [];
  const unhandled: unknown[] = [];
  const previousHandler = config.onUnhandledError;

  beforeEach(() => {
    // What rxjs would otherwise throw from a timer (an uncaught exception: the process exits).
    config.onUnhandledError = (error) => unhandled.push(error);
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    config.onUnhandledError = previousHandler;
    unhandled.splice(0);
  });

  it('are logged with the election name; the others and the election keep running', async () => {
    const store = new InMemoryLeaseStore();
    const a = await createApp(store, 'a');
    apps.push(a.app);
    const seen: [boolean, string | null][] = [];
    const changes = a.leader.changes('billing');
    changes.subscribe((event) => {
      if (event.isLeader) throw new Error('subscriber bug');
    });
    changes.subscribe({
      next: (event) => {
        if (event.isLeader) throw new Error('observer bug');
      },
    });
    changes.pipe(filter((event: LeaderChangeEvent) => event.isLeader)).subscribe(() => {
      throw new Error('piped subscriber bug');
    });
    changes
      .pipe(
        map((event: LeaderChangeEvent) => {
          if (event.isLeader) throw new Error('operator bug');
          return event;
        }),
      )
      .subscribe(() => undefined);
    changes.subscribe((event) => seen.push([event.isLeader, event.leader]));

    await a.leader.waitForLeadership('billing');
    store.adminWrite({ holderIdentity: 'intruder', leaseDurationSeconds: 1 });
    await eventually(() => seen.length >= 2);
    await a.leader.waitForLeadership('billing');
    await eventually(() => seen.length >= 3);
    // rxjs reports on a timer: give it the chance.
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(unhandled).toEqual([]);
    expect(seen).toEqual([
      [true, 'a'],
      [false, 'intruder'],
      [true, 'a'],
    ]);
    const errors = a.logger.lines.filter((line) => line.startsWith('error '));
    for (const bug of ['subscriber bug', 'observer bug', 'piped subscriber bug', 'operator bug']) {
      expect(errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`changes\\(\\) subscriber of "billing".*: ${bug}`)),
        ]),
      );
    }
    expect(a.leader.isLeader('billing')).toBe(true);
  });
});
