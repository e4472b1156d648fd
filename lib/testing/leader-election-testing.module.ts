import {
  Global,
  Module,
  type DynamicModule,
  type LoggerService,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InvalidOptionError, type ElectionMetrics } from '../core/index.js';
import { InMemoryLeaseStore } from '../core/memory-lock.js';
import type { LeaderElectionModuleOptions } from '../interfaces/leader-election-options.interface.js';
import { DEFAULT_ELECTION } from '../leader-election.constants.js';
import {
  MUST_BE_BOOLEAN,
  NON_EMPTY_STRING,
  OTHER_LEADER_IS_IDENTITY,
  TESTING_FOR_ROOT_TAKES_OBJECT,
} from '../leader-election.messages.js';
import { LeaderElectionModule } from '../leader-election.module.js';
import { LeaderElectionRegistry } from '../leader-election.registry.js';
import {
  LeaderElectionTestingService,
  TESTING_OTHER_HOLDER_SECONDS,
  until,
} from './leader-election-testing.service.js';
import { TestingLeaseLock } from './testing-lease-lock.js';
import { assertKnownOptions, optionKeys } from '../option-validation.js';

/** Options of {@link LeaderElectionTestingModule.forRoot}. */
export interface LeaderElectionTestingOptions {
  /** Whether this instance leads once the app is initialized. Default true. */
  readonly leader?: boolean;
  /** Name of the election, as `LeaderElectionModule.forRoot({ election })`. Default `'default'`. */
  readonly election?: string;
  /** Name of the (in-memory) Lease, as seen in change events. Default `'test-lease'`. */
  readonly leaseName?: string;
  /** This instance's identity. Default `'test-instance'`. */
  readonly identity?: string;
  /** Who leads when this instance does not (`leader: false`, `loseLeadership()`). Default `'other-instance'`. */
  readonly otherLeader?: string;
  /** Logger of the election. Default `false` (silent). */
  readonly logger?: LoggerService | false;
  /** As `LeaderElectionModule.forRoot()`. Default 10000. */
  readonly shutdownGracePeriod?: number;
  /** Metrics adapter, as `LeaderElectionModule.forRoot()`. */
  readonly metrics?: ElectionMetrics;
}

/**
 * Timings of a test election: a leader that is never late, another holder nobody takes over from.
 * Leadership changes only when the test says so.
 */
const TESTING_TIMINGS = {
  leaseDuration: TESTING_OTHER_HOLDER_SECONDS * 1000,
  renewDeadline: 3_000_000,
  retryPeriod: 1_000,
  renewInterval: 60_000,
} as const;

const KNOWN = optionKeys<LeaderElectionTestingOptions>({
  leader: true,
  election: true,
  leaseName: true,
  identity: true,
  otherLeader: true,
  logger: true,
  shutdownGracePeriod: true,
  metrics: true,
});

const optionsToken = (name: string) => `nestjs-kube-leader:testing-options:${name}`;

interface ResolvedTestingOptions {
  readonly leader: boolean;
  readonly name: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly otherLeader: string;
  readonly logger: LoggerService | false;
  readonly shutdownGracePeriod?: number;
  readonly metrics?: ElectionMetrics;
}

/** Shared by every `forRoot()` of an app: the service. */
@Global()
@Module({
  providers: [LeaderElectionTestingService],
  exports: [LeaderElectionTestingService],
})
export class LeaderElectionTestingCoreModule {}

/** Builds the election's options, with a fresh in-memory Lease per application. */
function createOptions(options: ResolvedTestingOptions): LeaderElectionModuleOptions {
  const store = new InMemoryLeaseStore();
  if (!options.leader) {
    const now = new Date();
    store.adminWrite({
      holderIdentity: options.otherLeader,
      leaseDurationSeconds: TESTING_OTHER_HOLDER_SECONDS,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    });
  }
  return {
    leaseName: options.leaseName,
    election: options.name,
    lock: new TestingLeaseLock(store, options.identity, options.leaseName, options.otherLeader),
    logger: options.logger,
    ...TESTING_TIMINGS,
    ...(options.shutdownGracePeriod === undefined
      ? {}
      : { shutdownGracePeriod: options.shutdownGracePeriod }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  };
}

/** Makes `app.init()` resolve only once the election has its initial state. */
class InitialStateWaiter implements OnApplicationBootstrap {
  constructor(
    private readonly registry: LeaderElectionRegistry,
    private readonly options: ResolvedTestingOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { elector } = this.registry.get(this.options.name);
    // The election's own module bootstraps first (it is imported by ours); should it not have
    // started, the service's methods wait instead.
    if (elector.status().phase !== 'running') return;
    const { leader, otherLeader } = this.options;
    await until(
      elector,
      () => (leader ? elector.isLeader() : elector.getLeader() === otherLeader),
      leader ? `${elector.identity} to lead` : `${elector.identity} to follow ${otherLeader}`,
    );
  }
}

/**
 * `LeaderElectionModule` for unit tests: the election runs on an in-memory Lease instead of the
 * API server, and {@link LeaderElectionTestingService} makes this instance lead or lose, so
 * tests can check what `@LeaderOnly()` methods and `@OnLeaderChange()` handlers do.
 *
 * Use it in place of `LeaderElectionModule.forRoot()` (once per election; give each but one an
 * `election` name). After `await moduleRef.init()` (or `app.init()`) the instance leads (`leader: true`, the
 * default) or follows `otherLeader`.
 *
 * @example
 * ```ts
 * const moduleRef = await Test.createTestingModule({
 *   imports: [LeaderElectionTestingModule.forRoot({ leader: false })],
 *   providers: [ReportJob],
 * }).compile();
 * await moduleRef.init();
 * const leadership = moduleRef.get(LeaderElectionTestingService);
 *
 * await moduleRef.get(ReportJob).run();   // skipped: a follower
 * await leadership.becomeLeader();
 * await moduleRef.get(ReportJob).run();   // runs
 * await moduleRef.close();
 * ```
 */
@Module({})
export class LeaderElectionTestingModule {
  /**
   * One election on an in-memory Lease, in place of `LeaderElectionModule.forRoot()`; call it once per
   * election name. After `init()` this instance leads (`leader: true`, the default) or follows
   * `otherLeader`.
   */
  static forRoot(options: LeaderElectionTestingOptions = {}): DynamicModule {
    const resolved = resolveOptions(options);
    const token = optionsToken(resolved.name);
    return {
      module: LeaderElectionTestingModule,
      imports: [
        LeaderElectionTestingCoreModule,
        LeaderElectionModule.forRootAsync({
          imports: [
            {
              module: LeaderElectionTestingOptionsModule,
              providers: [{ provide: token, useValue: resolved }],
              exports: [token],
            },
          ],
          inject: [token],
          useFactory: createOptions,
        }),
      ],
      providers: [
        {
          provide: `nestjs-kube-leader:testing-initial-state:${resolved.name}`,
          useFactory: (registry: LeaderElectionRegistry) =>
            new InitialStateWaiter(registry, resolved),
          inject: [LeaderElectionRegistry],
        },
      ],
      exports: [LeaderElectionTestingCoreModule],
    };
  }
}

/** Carries one election's testing options to its options factory. */
@Module({})
class LeaderElectionTestingOptionsModule {}

function resolveOptions(options: LeaderElectionTestingOptions): ResolvedTestingOptions {
  assertKnownOptions(options, KNOWN, 'LeaderElectionTestingModule', TESTING_FOR_ROOT_TAKES_OBJECT);
  if (options.leader !== undefined && typeof options.leader !== 'boolean') {
    throw new InvalidOptionError('leader', MUST_BE_BOOLEAN, options.leader);
  }
  for (const key of ['election', 'leaseName', 'identity', 'otherLeader'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new InvalidOptionError(key, NON_EMPTY_STRING, value);
    }
  }
  const identity = options.identity ?? 'test-instance';
  const otherLeader = options.otherLeader ?? 'other-instance';
  if (identity === otherLeader) {
    throw new InvalidOptionError('otherLeader', OTHER_LEADER_IS_IDENTITY(identity));
  }
  return {
    leader: options.leader ?? true,
    name: options.election ?? DEFAULT_ELECTION,
    leaseName: options.leaseName ?? 'test-lease',
    identity,
    otherLeader,
    logger: options.logger ?? false,
    shutdownGracePeriod: options.shutdownGracePeriod,
    metrics: options.metrics,
  };
}
