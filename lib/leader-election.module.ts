import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LeaderElectionExplorer } from './leader-election.explorer.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './leader-election.module-definition.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';
import { LEADER_ELECTION_RUNNER } from './leader-election.runner.js';
import { LeaderOnlyInterceptor } from './leader-only.interceptor.js';
import { LeaderService } from './leader.service.js';

/** Shared per app (whatever the number of elections): registry, service, explorer, interceptor. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [LeaderElectionRegistry, LeaderService, LeaderElectionExplorer, LeaderOnlyInterceptor],
  exports: [LeaderElectionRegistry, LeaderService, LeaderOnlyInterceptor],
})
export class LeaderElectionCoreModule {}

/**
 * Kubernetes Lease leader election for a Nest app.
 *
 * @example
 * ```ts
 * @Module({ imports: [ScheduleModule.forRoot(), LeaderElectionModule.forRoot({ leaseName: 'billing' })] })
 * export class AppModule {}
 * ```
 * Import it once per election; give every election but one an `election` name.
 */
@Module({})
export class LeaderElectionModule extends ConfigurableModuleClass {
  /** Registers an election with static options. */
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withElection(super.forRoot(options));
  }

  /** Registers an election whose options come from a factory, class or existing provider. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withElection(super.forRootAsync(options));
  }
}

function withElection(definition: DynamicModule): DynamicModule {
  return {
    ...definition,
    imports: [...(definition.imports ?? []), LeaderElectionCoreModule],
    providers: [...(definition.providers ?? []), LEADER_ELECTION_RUNNER],
    exports: [...(definition.exports ?? []), LeaderElectionCoreModule],
  };
}
