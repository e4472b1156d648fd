import type {
  BeforeApplicationShutdown,
  FactoryProvider,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InMemoryLeaseLock } from './core/memory-lock.js';
import { advertiseWhenListening } from './forwarding/advertise.js';
import type { Election } from './election.js';
import { createElection } from './election.factory.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { LEADER_ELECTION_MODULE_OPTIONS } from './leader-election.module-definition.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';
import { API_NOT_REACHED, NO_SHUTDOWN_HOOKS } from './leader-election.messages.js';

/**
 * How long after bootstrap the runner checks that something handles SIGTERM: apps call
 * `app.enableShutdownHooks()` once the app exists, which may be after bootstrap.
 */
export const SHUTDOWN_HOOKS_CHECK_DELAY = 1_000;
let warnedNoShutdownHooks = false;

/**
 * One per `forRoot()`: starts the election in onApplicationBootstrap without blocking (unless
 * `waitForLeadership`), and stops it on shutdown: no new leader work, in-flight `@LeaderOnly` calls
 * awaited (bounded), then the lease released. Built by {@link LEADER_ELECTION_RUNNER}.
 */
export class LeaderElectionRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private hooksCheck: ReturnType<typeof setTimeout> | undefined;
  private reachCheck: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly election: Election,
    private readonly waitForLeadership: boolean,
    private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    advertiseWhenListening(this.election, this.adapterHost);
    this.election.start();
    this.checkShutdownHooksLater();
    this.reachCheck = checkApiReached(this.election);
    // A replica of a new revision announces itself before the app listens (and a readiness probe
    // passes): bounded by one request timeout, so an unreachable API server delays nothing more.
    const single = this.election.engine.single;
    if (single) await single.whenSettled(single.requestTimeout);
    if (this.waitForLeadership) {
      await this.election.elector.waitForLeadership();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.hooksCheck);
    clearTimeout(this.reachCheck);
    await this.election.stop();
  }

  /**
   * Warns once per process when the Lease would be released on shutdown but nothing handles
   * SIGTERM (no `enableShutdownHooks()`): a rollout's SIGTERM then ends the process without a
   * release. Not for in-memory Leases (tests, local mode), where no other replica waits.
   */
  private checkShutdownHooksLater(): void {
    const { electors, leaseName, logger } = this.election;
    const elector = electors[0];
    if (!elector.releaseOnStop || elector.lock instanceof InMemoryLeaseLock) return;
    this.hooksCheck = setTimeout(() => {
      if (warnedNoShutdownHooks || process.listenerCount('SIGTERM') > 0) return;
      warnedNoShutdownHooks = true;
      logger?.warn(NO_SHUTDOWN_HOOKS(leaseName));
    }, SHUTDOWN_HOOKS_CHECK_DELAY);
    this.hooksCheck.unref();
  }
}

/**
 * Warns when, one renew deadline after start, no request of the election has been answered (a
 * kubeconfig pointing at the wrong place, a cluster that is down): the app has started, but this
 * instance cannot lead, and the election's repeated errors log at debug only. Not for in-memory
 * Leases, which always answer.
 */
function checkApiReached(election: Election): ReturnType<typeof setTimeout> | undefined {
  const { electors, logger } = election;
  const first = electors[0];
  if (!logger || first.lock instanceof InMemoryLeaseLock) return undefined;
  const { renewDeadline } = first.status();
  const check = setTimeout(() => {
    const statuses = electors.map((elector) => elector.status());
    const reached = statuses.some((s) => s.phase !== 'running' || s.lastSuccessAgoMs !== undefined);
    if (reached) return;
    const error = statuses.map((s) => s.lastError).find((e) => e !== undefined);
    logger.warn(API_NOT_REACHED(first.lock.description, renewDeadline, error));
  }, renewDeadline);
  check.unref();
  return check;
}

/**
 * Builds the election from its options and registers it while the app's providers are created, so
 * invalid options fail at bootstrap, before any lifecycle hook runs. A factory because building is
 * asynchronous (the Kubernetes layer is loaded on demand).
 */
export const LEADER_ELECTION_RUNNER: FactoryProvider<LeaderElectionRunner> = {
  provide: LeaderElectionRunner,
  inject: [
    LEADER_ELECTION_MODULE_OPTIONS,
    LeaderElectionRegistry,
    { token: HttpAdapterHost, optional: true },
  ],
  useFactory: async (
    options: LeaderElectionModuleOptions,
    registry: LeaderElectionRegistry,
    adapterHost?: HttpAdapterHost,
  ) => {
    const election = await createElection(options, registry.identitySuffix);
    registry.register(election);
    return new LeaderElectionRunner(election, options.waitForLeadership === true, adapterHost);
  },
};
