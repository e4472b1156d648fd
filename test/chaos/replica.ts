// A replica of a small Nest app for the fault-injection suite. It logs, as JSON lines on stdout,
// every leadership change it sees and every leader-only work step, with a clock shared by all
// processes on the machine (performance.timeOrigin + performance.now(), in ms).
//
// Environment: KUBECONFIG, NAMESPACE, LEASE, IDENTITY, LEASE_DURATION_MS, RENEW_DEADLINE_MS,
// RETRY_PERIOD_MS, SHUTDOWN_GRACE_MS, CHAOS_RENEW_INTERVAL_MS, CHAOS_REQUEST_TIMEOUT_MS (optional),
// and REPLICA_NAME: the process's name in the event log
// (default IDENTITY). The `same-identity` fault starts a second process with the IDENTITY of another
// under a name of its own, so that the checker tells their work apart.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule } from '@nestjs/schedule';
import { KubeConfig } from '@kubernetes/client-node';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from '../../lib/index.js';

const now = () => performance.timeOrigin + performance.now();
const identity = process.env.IDENTITY ?? 'replica';
const name = process.env.REPLICA_NAME ?? identity;
const emit = (type: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ t: now(), id: name, type, ...fields })}\n`);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
class Work {
  private run = 0;
  constructor(private readonly leader: LeaderService) {}

  /**
   * Leader-only work in small steps. Before each step's side effect it checks that it still leads
   * (computed from the clock at call time), as the README tells users to do for work that could
   * outlive a lost leadership.
   */
  @Interval(100)
  @LeaderOnly()
  async steps() {
    const run = ++this.run;
    const token = this.leader.fencingToken();
    emit('work-start', { run, token });
    let last = now();
    for (let step = 0; step < 4; step++) {
      await pause(10);
      if (!this.leader.isLeader()) {
        emit('work-abort', { run, step });
        break;
      }
      last = now();
      emit('work-step', { run, step, token });
    }
    emit('work-end', { run, last });
  }

  /** A cron job: each second's run should execute exactly once across replicas. */
  @Cron('* * * * * *')
  @LeaderOnly()
  tick() {
    emit('tick', { slot: Math.round(Date.now() / 1000) });
  }

  @OnLeaderChange()
  onChange(event: LeaderChangeEvent) {
    emit('change', { isLeader: event.isLeader, leader: event.leader, token: event.fencingToken });
  }
}

async function main() {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(process.env.KUBECONFIG!);
  const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const optional = (option: string, value: string | undefined) =>
    value === undefined ? {} : { [option]: Number(value) };
  @Module({
    imports: [
      ScheduleModule.forRoot(),
      LeaderElectionModule.forRoot({
        leaseName: process.env.LEASE!,
        namespace: process.env.NAMESPACE!,
        identity,
        kubeConfig,
        leaseDuration: number('LEASE_DURATION_MS', 3000),
        renewDeadline: number('RENEW_DEADLINE_MS', 2000),
        retryPeriod: number('RETRY_PERIOD_MS', 500),
        shutdownGracePeriod: number('SHUTDOWN_GRACE_MS', 2000),
        // Unset: the library's defaults for these timings. Set (CHAOS_RENEW_INTERVAL_MS and
        // CHAOS_REQUEST_TIMEOUT_MS of the run): a cadence under test, e.g. the default's ratios.
        ...optional('renewInterval', process.env.CHAOS_RENEW_INTERVAL_MS),
        ...optional('requestTimeout', process.env.CHAOS_REQUEST_TIMEOUT_MS),
        logger: {
          log: (message: string) => emit('log', { level: 'log', message }),
          warn: (message: string) => emit('log', { level: 'warn', message }),
          error: (message: string) => emit('log', { level: 'error', message }),
        },
      }),
    ],
    providers: [Work],
  })
  class ReplicaModule {}

  const app = await NestFactory.create(ReplicaModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.init();
  emit('ready');
  const exit = () => emit('exit');
  process.once('exit', exit);
}

main().catch((error: unknown) => {
  emit('fatal', { message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
