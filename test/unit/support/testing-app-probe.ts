// Run by test/unit/layers.spec.ts in a child process, under record-resolutions.mjs: starts and stops
// an app with LeaderElectionTestingModule whose provider imports the main entry (as an app's code
// does), then (as a check that the log works) loads lib/kubernetes.
import 'reflect-metadata';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderOnly, LeaderService } from '../../../lib/index.js';
import {
  LeaderElectionTestingService,
  LeaderElectionTestingModule,
} from '../../../lib/testing/index.js';

const log = process.env.NKL_RESOLVE_LOG!;
/** CommonJS loads do not pass through the resolve hook; list client-node's from require's cache. */
const logRequired = () => {
  for (const file of Object.keys(createRequire(import.meta.url).cache)) {
    appendFileSync(log, `file://${file} <- (require)\n`);
  }
};

@Injectable()
class Jobs {
  constructor(readonly leader: LeaderService) {}

  @LeaderOnly()
  run(): boolean {
    return true;
  }
}

@Module({ imports: [LeaderElectionTestingModule.forRoot()], providers: [Jobs] })
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
if (app.get(Jobs).run() !== true) throw new Error('the leader-only method did not run');
await app.get(LeaderElectionTestingService).loseLeadership();
await app.get(LeaderElectionTestingService).becomeLeader();
await app.close();
logRequired();
appendFileSync(log, 'PHASE lib/kubernetes\n');
await import('../../../lib/kubernetes/index.js');
logRequired();
