// Health and metrics inside a Nest app (in-memory Lease): terminus' HealthCheckService over the
// indicator, and the 503 of a follower's @LeaderOnly route counted as a skip.
import 'reflect-metadata';
import { Controller, Get, Logger, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { LeaderElectionModule, LeaderOnly } from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import {
  LeaderElectionHealthIndicator,
  LeaderElectionHealthModule,
} from '../../../lib/health/index.js';
import { PrometheusElectionMetrics } from '../../../lib/metrics/index.js';

const FAST = { leaseDuration: 2_000, renewDeadline: 1_500, retryPeriod: 500 };

@Controller()
class AppController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly leaderElection: LeaderElectionHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.leaderElection.isHealthy('leaderElection')]);
  }

  @Post('work')
  @LeaderOnly()
  work() {
    return { ran: true };
  }
}

async function startApp(
  store: InMemoryLeaseStore,
  identity: string,
  registry: Registry,
  waitForLeadership = false,
) {
  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        leaseName: 'jobs',
        lock: new InMemoryLeaseLock(store, identity),
        logger: false,
        metrics: new PrometheusElectionMetrics({ registry }),
        waitForLeadership,
        ...FAST,
      }),
      LeaderElectionHealthModule,
    ],
    controllers: [AppController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('health and metrics in a Nest app', () => {
  const apps: INestApplication[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('serves the indicator through HealthCheckService, and counts a 503 of a follower as a skip', async () => {
    const store = new InMemoryLeaseStore();
    const leaderRegistry = new Registry();
    const followerRegistry = new Registry();
    const leader = await startApp(store, 'a', leaderRegistry, true);
    apps.push(leader);
    const follower = await startApp(store, 'b', followerRegistry);
    apps.push(follower);

    const leaderHealth = await fetch(`${await leader.getUrl()}/health`);
    expect(leaderHealth.status).toBe(200);
    expect(await leaderHealth.json()).toEqual(
      expect.objectContaining({
        status: 'ok',
        details: {
          leaderElection: expect.objectContaining({
            status: 'up',
            role: 'leader',
            holder: 'a',
            state: 'running',
          }),
        },
      }),
    );
    const followerHealth = await fetch(`${await follower.getUrl()}/health`);
    expect(await followerHealth.json()).toEqual(
      expect.objectContaining({
        status: 'ok',
        details: {
          leaderElection: expect.objectContaining({ status: 'up', role: 'follower', holder: 'a' }),
        },
      }),
    );

    expect((await fetch(`${await follower.getUrl()}/work`, { method: 'POST' })).status).toBe(503);
    expect((await fetch(`${await leader.getUrl()}/work`, { method: 'POST' })).status).toBe(201);
    expect(await followerRegistry.metrics()).toContain(
      'leader_election_leader_only_calls_total{name="jobs",method="AppController.work",outcome="skipped"} 1',
    );
    expect(await leaderRegistry.metrics()).toContain(
      'leader_election_leader_only_calls_total{name="jobs",method="AppController.work",outcome="executed"} 1',
    );
  });
});

Logger.overrideLogger(['error']);
