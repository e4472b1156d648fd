import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import type { LeaderChangeEvent } from './core/index.js';
import { isHandler, onceOf, originalOf } from './decorators/leader-only.decorator.js';
import { SCHEDULE_CRON_OPTIONS, type CronMetadata } from './fires/cron-schedule.js';
import { ONCE_NOT_ON_CRON, ONCE_ON_HANDLER } from './fires/fires.messages.js';
import type { OnceOptions } from './fires/once-jobs.js';
import {
  LEADER_ONLY_JOB_METADATA,
  LEADER_ONLY_FORWARD_METADATA,
  LEADER_ONLY_METADATA,
  ON_LEADER_CHANGE_METADATA,
} from './leader-election.constants.js';
import { SetupError } from './leader-election.errors.js';
import {
  FORWARD_NOT_ON_HANDLER,
  FORWARD_WITHOUT_OPTION,
} from './forwarding/forwarding.messages.js';
import {
  LEADER_ONLY_REQUEST_SCOPED,
  LEADER_ONLY_SCHEDULED_TWICE,
  ON_LEADER_CHANGE_FAILED,
  ON_LEADER_CHANGE_REQUEST_SCOPED,
  SCHEDULE_MODULE_TWICE,
  SCHEDULED_WITHOUT_SCHEDULER,
} from './leader-election.messages.js';
import { LeaderElectionRegistry } from './leader-election.registry.js';
import { Schedulers, scheduleDecorator, scheduleModuleImporters } from './schedule-modules.js';

/**
 * Finds `@LeaderOnly()` and `@OnLeaderChange()` methods once all providers exist (onModuleInit,
 * before any elector starts in onApplicationBootstrap): checks that the elections they name exist,
 * warns about request-scoped use and about scheduling mistakes (no scheduler, or several: a
 * `@LeaderOnly` job scheduled twice is refused, before any job starts), and subscribes the change
 * handlers.
 */
@Injectable()
export class LeaderElectionExplorer
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('LeaderElection');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: LeaderElectionRegistry,
    private readonly modules: ModulesContainer,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const schedulers = new Schedulers(this.discovery);
    const scheduledTwice: string[] = [];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      const isStatic = wrapper.isDependencyTreeStatic();
      const className = instance.constructor?.name ?? String(wrapper.name);
      for (const key of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[key];
        if (typeof method !== 'function') continue;
        const gatedOn: string | undefined = Reflect.getMetadata(LEADER_ONLY_METADATA, method);
        if (gatedOn !== undefined) {
          this.registry.get(gatedOn); // throws a clear error when the election does not exist
          if (!isStatic) this.logger.warn(LEADER_ONLY_REQUEST_SCOPED(className, key));
          const scheduled = scheduleDecorator(method);
          if (scheduled && !schedulers.any) {
            this.logger.warn(SCHEDULED_WITHOUT_SCHEDULER(className, key, scheduled));
          }
          if (schedulers.runs(method) > 1)
            scheduledTwice.push(`${className}.${key} (${scheduled})`);
          const once = onceOf(method);
          if (once) this.addOnceJob(instance, key, className, method, gatedOn, once);
          this.checkForward(instance, key, className, method, gatedOn);
        }
        const elections: string[] | undefined = Reflect.getMetadata(
          ON_LEADER_CHANGE_METADATA,
          method,
        );
        if (!elections) continue;
        if (!isStatic) {
          this.logger.warn(ON_LEADER_CHANGE_REQUEST_SCOPED(className, key));
          continue;
        }
        for (const name of new Set(elections)) {
          const election = this.registry.get(name);
          this.subscriptions.push(
            election.changes().subscribe((event) => this.invoke(instance, key, className, event)),
          );
        }
      }
    }
    this.checkSchedulerCount(schedulers, scheduledTwice);
    this.registry.onceJobs.checkLedgerSizes();
  }

  /**
   * After every module's bootstrap (the scheduler has started its jobs in its own): `once` jobs
   * catch up whenever this replica starts leading.
   */
  onApplicationBootstrap(): void {
    setImmediate(() => this.registry.onceJobs.start());
  }

  /** Registers a `@LeaderOnly({ once: true })` method; refuses it off `@Cron` or on a handler. */
  private addOnceJob(
    instance: Record<string, unknown>,
    key: string,
    className: string,
    method: object,
    election: string,
    options: OnceOptions,
  ): void {
    const scheduled = scheduleDecorator(method);
    if (isHandler(instance, method)) throw new SetupError(ONCE_ON_HANDLER(className, key));
    if (scheduled !== '@Cron') throw new SetupError(ONCE_NOT_ON_CRON(className, key, scheduled));
    const cron = Reflect.getMetadata(SCHEDULE_CRON_OPTIONS, method) as CronMetadata;
    const original = originalOf(method)!;
    const job: string = Reflect.getMetadata(LEADER_ONLY_JOB_METADATA, method);
    const schedulerRegistry = this.schedulerRegistry();
    this.registry.onceJobs.add({
      election: this.registry.get(election),
      job,
      options,
      cron,
      run: () => original.call(instance),
      isActive: () => {
        if (cron.disabled) return false;
        // Only a named job can be found (and stopped) through the SchedulerRegistry.
        if (!cron.name || !schedulerRegistry) return true;
        try {
          return schedulerRegistry.getCronJob(cron.name).isActive !== false;
        } catch {
          return false; // deleted from the registry
        }
      },
    });
  }

  /** @nestjs/schedule's SchedulerRegistry, if the app has one (the package is an optional peer). */
  /** `@LeaderOnly({ forward: true })` needs a handler, and an election with `forwarding`. */
  private checkForward(
    instance: object,
    key: string,
    className: string,
    method: object,
    election: string,
  ): void {
    if (Reflect.getMetadata(LEADER_ONLY_FORWARD_METADATA, method) !== true) return;
    if (!isHandler(instance, method)) throw new SetupError(FORWARD_NOT_ON_HANDLER(className, key));
    if (!this.registry.get(election).forwarding) {
      throw new SetupError(FORWARD_WITHOUT_OPTION(className, key, election));
    }
  }

  private schedulerRegistry(): { getCronJob(name: string): { isActive?: boolean } } | undefined {
    const wrapper = this.discovery
      .getProviders()
      .find((provider) => provider.name === 'SchedulerRegistry' && provider.instance);
    return wrapper?.instance as { getCronJob(name: string): { isActive?: boolean } } | undefined;
  }

  /** Several ScheduleModule.forRoot() imports run every job several times per tick. */
  private checkSchedulerCount(schedulers: Schedulers, scheduledTwice: readonly string[]): void {
    if (schedulers.count < 2) return;
    const importers = scheduleModuleImporters(this.modules);
    if (scheduledTwice.length) {
      this.onApplicationShutdown();
      throw new SetupError(
        LEADER_ONLY_SCHEDULED_TWICE(scheduledTwice, schedulers.count, importers),
      );
    }
    this.logger.warn(SCHEDULE_MODULE_TWICE(schedulers.count, importers));
  }

  onApplicationShutdown(): void {
    this.registry.onceJobs.stop();
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  private invoke(
    instance: Record<string, unknown>,
    key: string,
    className: string,
    event: LeaderChangeEvent,
  ) {
    const fail = (error: unknown) =>
      this.logger.error(
        ON_LEADER_CHANGE_FAILED(className, key, error),
        error instanceof Error ? error.stack : undefined,
      );
    try {
      const result = (instance[key] as (event: LeaderChangeEvent) => unknown).call(instance, event);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, fail);
      }
    } catch (error) {
      fail(error);
    }
  }
}
