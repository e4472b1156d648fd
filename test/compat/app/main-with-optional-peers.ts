// The app of the cells with the optional peers: a leader-only @Cron job (@nestjs/schedule), the
// health indicator (@nestjs/terminus) and Prometheus metrics (prom-client) next to the election.
import { Injectable } from '@nestjs/common';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { Registry } from 'prom-client';
import { LeaderOnly } from 'nestjs-kube-leader';
import {
  LeaderElectionHealthIndicator,
  LeaderElectionHealthModule,
} from 'nestjs-kube-leader/health';
import { PrometheusElectionMetrics } from 'nestjs-kube-leader/metrics';
import { emit, runElectionApp } from './election-app.js';

@Injectable()
class Ticker {
  @Cron('* * * * * *')
  @LeaderOnly()
  tick(): void {
    emit('tick');
  }
}

const registry = new Registry();

runElectionApp({
  imports: [ScheduleModule.forRoot(), LeaderElectionHealthModule],
  providers: [Ticker],
  options: { metrics: new PrometheusElectionMetrics({ registry }) },
  commands: {
    health: (app) => app.get(LeaderElectionHealthIndicator).isHealthy('election'),
    metrics: async () => {
      const metric = await registry.getSingleMetric('leader_election_master_status')?.get();
      return metric?.values.map((sample) => ({ labels: sample.labels, value: sample.value }));
    },
  },
}).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
