import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: LEADER_ELECTION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LeaderElectionModuleOptions>()
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLeaderElectionOptions')
  .build();
