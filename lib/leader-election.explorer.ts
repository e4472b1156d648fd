import { Injectable, Logger, type OnModuleInit, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import type { LeaderChangeEvent } from './core/index.js';
import { LEADER_ONLY_METADATA, ON_LEADER_CHANGE_METADATA } from './leader-election.constants.js';
import {
  LEADER_ONLY_REQUEST_SCOPED,
  ON_LEADER_CHANGE_FAILED,
  SCHEDULED_WITHOUT_SCHEDULER,
} from './leader-election.messages.js';

/** @nestjs/schedule's method metadata (its SCHEDULER_TYPE: 1 cron, 2 timeout, 3 interval), by name. */
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
const SCHEDULE_DECORATORS: Readonly<Record<number, string>> = {
  1: '@Cron',
  2: '@Timeout',
  3: '@Interval',
};
import { LeaderElectionRegistry } from './leader-election.registry.js';

/**
 * Finds `@LeaderOnly()` and `@OnLeaderChange()` methods once all providers exist (onModuleInit,
 * before any elector starts in onApplicationBootstrap): checks that the elections they name exist,
 * warns about request-scoped use, and subscribes the change handlers.
 */
@Injectable()
export class LeaderElectionExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LeaderElection');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly registry: LeaderElectionRegistry,
  ) {}

  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    // ScheduleModule.forRoot() provides SchedulerRegistry; without it scheduled methods never run.
    const hasScheduler = wrappers.some((w) => w.name === 'SchedulerRegistry');
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
          const scheduled =
            SCHEDULE_DECORATORS[Reflect.getMetadata(SCHEDULER_TYPE, method) as number];
          if (scheduled && !hasScheduler) {
            this.logger.warn(SCHEDULED_WITHOUT_SCHEDULER(className, key, scheduled));
          }
        }
        const elections: string[] | undefined = Reflect.getMetadata(
          ON_LEADER_CHANGE_METADATA,
          method,
        );
        if (!elections) continue;
        if (!isStatic) {
          this.logger.warn(
            `@OnLeaderChange() on ${className}.${key} is ignored: ${className} is request- or transient-scoped`,
          );
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
  }

  onApplicationShutdown(): void {
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
        `${ON_LEADER_CHANGE_FAILED(className, key)}: ${error instanceof Error ? error.message : String(error)}`,
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
