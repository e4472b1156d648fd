/**
 * Health indicator for `@nestjs/terminus` (an optional peer: only this entry point imports it).
 */
export {
  LeaderElectionHealthIndicator,
  DEFAULT_HEALTH_OPTIONS,
  type LeaderElectionHealthDetails,
  type LeaderElectionHealthOptions,
  type LeaderElectionShareHealth,
} from './leader-election.health.js';
export { LeaderElectionHealthModule } from './leader-election-health.module.js';
