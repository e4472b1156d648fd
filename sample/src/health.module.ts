// The health example of docs/operations.md as it is: readiness and liveness (the watchdog) for the
// probes in sample/k8s/deployment.yaml.
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import {
  LeaderElectionHealthIndicator,
  LeaderElectionHealthModule,
} from 'nestjs-kube-leader/health';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly leaderElection: LeaderElectionHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    // The watchdog only: an API server outage is no reason to restart every replica.
    const options = { maxApiFailureDuration: Infinity };
    return this.health.check([() => this.leaderElection.isHealthy('leaderElection', options)]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.leaderElection.isHealthy('leaderElection')]);
  }
}

@Module({ imports: [LeaderElectionHealthModule], controllers: [HealthController] })
export class HealthModule {}
