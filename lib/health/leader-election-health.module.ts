import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LeaderElectionHealthIndicator } from './leader-election.health.js';

/**
 * Provides {@link LeaderElectionHealthIndicator} (and terminus' `HealthCheckService`): import it
 * into the module of your health controller, next to `LeaderElectionModule.forRoot()` somewhere in
 * the app.
 *
 * @example
 * ```ts
 * @Module({ imports: [LeaderElectionHealthModule], controllers: [HealthController] })
 * export class HealthModule {}
 * ```
 */
@Module({
  imports: [TerminusModule],
  providers: [LeaderElectionHealthIndicator],
  exports: [LeaderElectionHealthIndicator, TerminusModule],
})
export class LeaderElectionHealthModule {}
