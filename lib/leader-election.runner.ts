import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Election } from './election.js';
import { createElection } from './election.factory.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { LEADER_ELECTION_MODULE_OPTIONS } from './leader-election.module-definition.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';

/**
 * One per `forRoot()`: builds the election from its options (invalid options fail here, at
 * bootstrap), starts it in onApplicationBootstrap without blocking (unless `waitForLeadership`),
 * and stops it on shutdown: no new leader work, in-flight `@LeaderOnly` calls awaited (bounded),
 * then the lease released.
 */
@Injectable()
export class LeaderElectionRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly election: Election;

  constructor(
    @Inject(LEADER_ELECTION_MODULE_OPTIONS) private readonly options: LeaderElectionModuleOptions,
    registry: LeaderElectionRegistry,
  ) {
    this.election = createElection(options);
    registry.register(this.election);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.election.elector.start();
    if (this.options.waitForLeadership) {
      await this.election.elector.waitForLeadership();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.election.stop();
  }
}
