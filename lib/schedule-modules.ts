import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import type { DiscoveryService, ModulesContainer } from '@nestjs/core';

/**
 * @nestjs/schedule's method metadata (its SCHEDULER_TYPE: 1 cron, 2 timeout, 3 interval), by name:
 * the package is an optional peer, so it is never imported here.
 */
const SCHEDULER_TYPE = 'SCHEDULER_TYPE';
const SCHEDULE_DECORATORS: Readonly<Record<number, { decorator: string; option: string }>> = {
  1: { decorator: '@Cron', option: 'cronJobs' },
  2: { decorator: '@Timeout', option: 'timeouts' },
  3: { decorator: '@Interval', option: 'intervals' },
};

/** `@Cron`, `@Timeout` or `@Interval` when `method` is scheduled by @nestjs/schedule. */
export function scheduleDecorator(method: object): string | undefined {
  return SCHEDULE_DECORATORS[Reflect.getMetadata(SCHEDULER_TYPE, method) as number]?.decorator;
}

/**
 * The app's schedulers: one per `ScheduleModule.forRoot()` module. Nest keys dynamic modules by
 * reference, so each `forRoot()` call makes a module with its own explorer, and each explorer
 * schedules every `@Cron`/`@Interval`/`@Timeout` of the app.
 */
export class Schedulers {
  private readonly options: Record<string, unknown>[];

  constructor(discovery: DiscoveryService) {
    this.options = discovery
      .getProviders()
      .filter((wrapper) => wrapper.name === 'ScheduleExplorer' && wrapper.instance)
      .map((wrapper) => {
        const { moduleOptions } = wrapper.instance as { moduleOptions?: Record<string, unknown> };
        return moduleOptions ?? {};
      });
  }

  /** Whether any ScheduleModule.forRoot() is imported (without one, scheduled methods never run). */
  get any(): boolean {
    return this.options.length > 0;
  }

  get count(): number {
    return this.options.length;
  }

  /** How many schedulers run `method` (0 when it is not scheduled; a scheduler may turn a kind off). */
  runs(method: object): number {
    const kind = SCHEDULE_DECORATORS[Reflect.getMetadata(SCHEDULER_TYPE, method) as number];
    if (!kind) return 0;
    return this.options.filter((options) => options[kind.option] !== false).length;
  }
}

type Import = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/**
 * The modules that import `ScheduleModule.forRoot()` (or `forRootAsync()`), by name, from what each
 * module declares: every module's `imports` lists every global module once Nest has bound them, so
 * the declarations are what tells who imported it. Imports given as promises are not followed.
 */
export function scheduleModuleImporters(modules: ModulesContainer): string[] {
  const importers = new Set<string>();
  const seen = new Set<object>();
  const visit = (imports: readonly Import[], importer: string): void => {
    for (const entry of imports) {
      const item = isForwardReference(entry) ? (entry.forwardRef() as Import) : entry;
      if (!isDynamicModule(item)) continue;
      if (item.module.name === 'ScheduleModule') importers.add(importer);
      else if (!seen.has(item)) {
        seen.add(item);
        visit(item.imports ?? [], item.module.name);
      }
    }
  };
  for (const moduleRef of modules.values()) {
    const declared = (Reflect.getMetadata('imports', moduleRef.metatype) ?? []) as Import[];
    visit(declared, moduleRef.metatype.name);
  }
  return [...importers];
}

function isDynamicModule(item: unknown): item is DynamicModule {
  return typeof item === 'object' && item !== null && 'module' in item;
}

function isForwardReference(entry: unknown): entry is ForwardReference {
  return typeof entry === 'object' && entry !== null && 'forwardRef' in entry;
}
