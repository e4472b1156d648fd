import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LeaderElectionModule, type LeaderElectionModuleOptions } from 'nestjs-kube-leader';
import { HealthModule } from './health.module.js';
import { LeaderEventsListener } from './leader-events.listener.js';
import { LeaderStatusController } from './leader-status.controller.js';
import { ReconcileJob } from './reconcile.job.js';
import { ReportsModule } from './reports.module.js';

const optionalNumber = (name: string): number | undefined =>
  process.env[name] === undefined ? undefined : Number(process.env[name]);

// In a cluster nothing else is needed: identity from POD_NAME, namespace from the service account,
// credentials in-cluster. The environment variables only serve the local demo.
const election: LeaderElectionModuleOptions = {
  leaseName: process.env.LEASE_NAME ?? 'sample-app',
  ...(process.env.NAMESPACE ? { namespace: process.env.NAMESPACE } : {}),
  leaseDuration: optionalNumber('LEASE_DURATION_MS'),
  renewDeadline: optionalNumber('RENEW_DEADLINE_MS'),
  retryPeriod: optionalNumber('RETRY_PERIOD_MS'),
};

// The leader-only Service (k8s/leader-service.yaml): with POD_IP (k8s/deployment.yaml sets it), the
// leader keeps its EndpointSlice. The app's election only: `reports` is spread over shares.
const leaderService: Partial<LeaderElectionModuleOptions> = process.env.POD_IP
  ? {
      leaderService: {
        name: 'sample-app-leader',
        port: { name: 'http', port: Number(process.env.PORT ?? 3000) },
      },
    }
  : {};

@Module({
  imports: [
    ScheduleModule.forRoot(),
    // The app's election: one leader, which runs the reconcile job. Followers forward
    // POST /reconcile/via-leader to it, at the POD_IP it advertises (k8s/deployment.yaml); with
    // POD_IP it also keeps the leader-only Service's EndpointSlice (k8s/leader-service.yaml).
    LeaderElectionModule.forRoot({
      ...election,
      forwarding: process.env.FORWARD_ALLOWED_RANGES
        ? { allowedRanges: process.env.FORWARD_ALLOWED_RANGES.split(',') }
        : {},
      ...leaderService,
    }),
    // A second election, `reports`, with the same options: its jobs spread over the replicas.
    ReportsModule.register(election),
    // GET /health/ready and /health/live, for the probes in k8s/deployment.yaml.
    HealthModule,
  ],
  controllers: [LeaderStatusController],
  providers: [ReconcileJob, LeaderEventsListener],
})
export class AppModule {}
