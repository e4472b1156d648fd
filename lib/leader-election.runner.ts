import type {
  BeforeApplicationShutdown,
  FactoryProvider,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { Election } from './election.js';
import { createElection } from './election.factory.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { LEADER_ELECTION_MODULE_OPTIONS } from './leader-election.module-definition.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';

/**
 * One per `forRoot()`: starts the election in onApplicationBootstrap without blocking (unless
 * `waitForLeadership`), and stops it on shutdown: no new leader work, in-flight `@LeaderOnly` calls
 * awaited (bounded), then the lease released. Built by {@link LEADER_ELECTION_RUNNER}.
 */
export class LeaderElectionRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    readonly election: Election,
    private readonly waitForLeadership: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.election.elector.start();
    if (this.waitForLeadership) {
      await this.election.elector.waitForLeadership();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.election.stop();
  }
}

/**
 * Builds the election from its options and registers it while the app's providers are created, so
 * invalid options fail at bootstrap, before any lifecycle hook runs. A factory because building is
 * asynchronous (the Kubernetes layer is loaded on demand).
 */
export const LEADER_ELECTION_RUNNER: FactoryProvider<LeaderElectionRunner> = {
  provide: LeaderElectionRunner,
  inject: [LEADER_ELECTION_MODULE_OPTIONS, LeaderElectionRegistry],
  useFactory: async (options: LeaderElectionModuleOptions, registry: LeaderElectionRegistry) => {
    const election = await createElection(options);
    registry.register(election);
    return new LeaderElectionRunner(election, options.waitForLeadership === true);
  },
};
