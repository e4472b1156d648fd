// Run by test/unit/layers.spec.ts in a child process, under record-resolutions.mjs: starts and stops
// an app with LeaderElectionTestingModule, then (as a check that the log works) loads lib/kubernetes.
import 'reflect-metadata';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
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

@Module({ imports: [LeaderElectionTestingModule.forRoot()] })
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
await app.get(LeaderElectionTestingService).loseLeadership();
await app.get(LeaderElectionTestingService).becomeLeader();
await app.close();
logRequired();
appendFileSync(log, 'PHASE lib/kubernetes\n');
await import('../../../lib/kubernetes/index.js');
logRequired();
