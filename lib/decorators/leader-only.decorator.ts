import { Inject, Logger, UseInterceptors } from '@nestjs/common';
import { finalize, isObservable } from 'rxjs';
import {
  DEFAULT_ELECTION,
  LEADER_ONLY_FORWARD_METADATA,
  LEADER_ONLY_JOB_METADATA,
  LEADER_ONLY_METADATA,
  LEADER_ONLY_ONCE_METADATA,
  NEST_CONTROLLER_WATERMARK,
  NEST_GATEWAY_METADATA,
  NEST_MESSAGE_PATTERN_METADATA,
  REGISTRY_PROPERTY,
} from '../leader-election.constants.js';
import { SetupError } from '../leader-election.errors.js';
import {
  LEADER_ONLY_NOT_A_METHOD,
  LEADER_ONLY_WITHOUT_REGISTRY,
  SKIPPED_NOT_CONFIRMED,
} from '../leader-election.messages.js';
import { LeaderElectionRegistry } from '../leader-election.registry.js';
import { LeaderOnlyInterceptor } from '../leader-only.interceptor.js';
import { NotLeaderException, refusedBefore } from '../not-leader.exception.js';
import type { CatchUpPolicy } from '../core/fires/catch-up-plan.js';
import {
  CATCH_UP_POLICY,
  CATCH_UP_WINDOW,
  ONCE_ON_CLASS,
  ONCE_ONLY_OPTION,
  ONCE_WITH_CONFIRM,
  RERUN_INTERRUPTED,
} from '../fires/fires.messages.js';
import type { OnceOptions } from '../fires/once-jobs.js';
import { FORWARD_OPTION, FORWARD_WITH_ONCE } from '../forwarding/forwarding.messages.js';
import { checkNameArgument } from './name-argument.js';
import { skipLine } from './skip-lines.js';

const logger = new Logger('LeaderOnly');

/** `catchUpWindow`'s default: covers a failover, a first election after a deletion, a rollout. */
const DEFAULT_CATCH_UP_WINDOW = 5 * 60 * 1000;
/** `catchUpWindow`'s largest value: 7 days. */
const MAX_CATCH_UP_WINDOW = 7 * 24 * 3600 * 1000;
const REGISTRY_INJECTED = Symbol('nestjs-kube-leader:registry-injected');

type AnyFunction = (...args: unknown[]) => unknown;

/** Options of {@link LeaderOnly}. */
export interface LeaderOnlyOptions {
  /** The election (default: the one registered by `forRoot()` without a name). */
  readonly election?: string;
  /**
   * Confirmed runs: before each run the leader renews the Lease (one conditional write, which
   * takes the place of its next scheduled renew), and the method runs only if that renew
   * succeeded, with leadership guaranteed for `renewDeadline` from the renew's start. For work
   * whose side effects must not happen on a leader that was just partitioned away. The method
   * then always returns a Promise; inside it, still check `LeaderService.isLeader()` (or the
   * work's signal) right before each side effect. Under load, runs share renews: at most one every
   * 100 ms, so a run may wait up to 100 ms for the next one.
   */
  readonly confirm?: boolean;
  /**
   * The job's name (default `ClassName.methodName`): in an election spread over shares (the
   * module's `shares` option) it decides which share's leader runs the method, so keep it stable
   * across releases (renaming a method otherwise moves its job to another share); logs and
   * metrics name the work by it.
   */
  readonly job?: string;
  /**
   * Every fire once, on `@Cron` methods only: before a fire runs, the leader claims it (the job and
   * its scheduled instant) in a ledger in the Lease, with one conditional write that is also a
   * renew; a fire is never claimed twice, whatever the replicas' clocks. A new leader catches up
   * the fires that fell due while nobody ran them (`catchUp`). Inside a run,
   * `LeaderService.currentRun()` says which fire it is. Implies a confirmation: not with `confirm`.
   */
  readonly once?: boolean;
  /**
   * With `once`: which missed fires a new leader runs: `'latest'` (default: the most recent,
   * older ones coalesced), `'all'` (each, at most 100), `'none'`.
   * @default 'latest'
   */
  readonly catchUp?: CatchUpPolicy;
  /**
   * With `once`: how far back (ms) missed fires are caught up; older ones are missed. At most 7 days.
   * @default 300000
   */
  readonly catchUpWindow?: number;
  /**
   * With `once`: run again a fire whose claimant stopped leading before recording its end (at least
   * once, for idempotent jobs). Default: reported as interrupted, not run again.
   * @default false
   */
  readonly rerunInterrupted?: boolean;
  /**
   * On HTTP handlers: a follower forwards the request to the leader and passes its answer back,
   * instead of answering 503 (the election needs the module's `forwarding` option; see
   * docs/forwarding.md). `false` opts a handler out of `forwarding.allHandlers`.
   * @default the election's `forwarding.allHandlers`
   */
  readonly forward?: boolean;
}

/**
 * Runs the method only on the leader of `election` (default: the unnamed election).
 *
 * - On provider methods (including `@Cron`, `@Interval`, `@Timeout`, in either decorator order,
 *   sync or async) a follower skips the call (a debug line, once per job and leader term) and
 *   gets `undefined`. While the method
 *   runs on the leader it counts as in-flight leader work: shutdown waits for it before releasing
 *   the lease.
 * - On controller, gateway and message handlers a follower answers 503 with the leader named
 *   (`LeaderOnlyInterceptor`).
 * - On a class it applies to every method of the class; a method's own `@LeaderOnly()` wins.
 *
 * @example
 * ```ts
 * @Cron('*\/10 * * * * *')
 * @LeaderOnly()
 * async reconcile() { ... }
 * ```
 */
export function LeaderOnly(
  electionOrOptions: string | LeaderOnlyOptions = DEFAULT_ELECTION,
): MethodDecorator & ClassDecorator {
  const options =
    typeof electionOrOptions === 'string' ? { election: electionOrOptions } : electionOrOptions;
  const election = options?.election ?? DEFAULT_ELECTION;
  const confirm = options?.confirm === true;
  const job = options?.job;
  checkNameArgument('@LeaderOnly(election)', 'election', election);
  if (job !== undefined) checkNameArgument('@LeaderOnly({ job })', 'job', job);
  const once = onceOptions(options ?? {});
  const forward = options?.forward;
  if (forward !== undefined && typeof forward !== 'boolean') {
    throw new SetupError(FORWARD_OPTION(forward));
  }
  if (forward && once) throw new SetupError(FORWARD_WITH_ONCE);
  const gate = { election, confirm, job, once, forward };
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (key === undefined) {
      if (once) throw new SetupError(ONCE_ON_CLASS((target as { name: string }).name));
      decorateClass(target as new (...args: unknown[]) => unknown, gate);
      return;
    }
    const className = (target as { constructor: { name: string } }).constructor.name;
    if (!descriptor || typeof descriptor.value !== 'function') {
      throw new SetupError(LEADER_ONLY_NOT_A_METHOD(className, String(key)));
    }
    wrapMethod(target, key, descriptor, gate);
    UseInterceptors(LeaderOnlyInterceptor)(target, key, descriptor);
    return descriptor;
  }) as MethodDecorator & ClassDecorator;
}

/** What a `@LeaderOnly` gate needs: its election, whether runs are confirmed, the job's name. */
interface Gate {
  readonly election: string;
  readonly confirm: boolean;
  readonly job: string | undefined;
  /** Set for `once` jobs. */
  readonly once: OnceOptions | undefined;
  /** `@LeaderOnly({ forward })`, if given. */
  readonly forward: boolean | undefined;
}

function decorateClass(type: new (...args: unknown[]) => unknown, gate: Gate): void {
  Reflect.defineMetadata(LEADER_ONLY_METADATA, gate.election, type);
  if (gate.forward !== undefined)
    Reflect.defineMetadata(LEADER_ONLY_FORWARD_METADATA, gate.forward, type);
  UseInterceptors(LeaderOnlyInterceptor)(type);
  const prototype = type.prototype as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(prototype)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    if (!descriptor || typeof descriptor.value !== 'function') continue;
    if (Reflect.hasOwnMetadata(LEADER_ONLY_METADATA, descriptor.value)) continue;
    wrapMethod(prototype, key, descriptor, gate);
    Object.defineProperty(prototype, key, descriptor);
  }
}

function wrapMethod(
  prototype: object,
  key: string | symbol,
  descriptor: PropertyDescriptor,
  { election, confirm, job, once, forward }: Gate,
): void {
  const original = descriptor.value as AnyFunction;
  const className = (prototype as { constructor: { name: string } }).constructor.name;
  const methodName = String(key);
  const task = job ?? `${className}.${methodName}`;
  // A confirmed run is always asynchronous (it waits for a renew), on followers too.
  const isAsync = confirm || original.constructor?.name === 'AsyncFunction';

  const gated = function (this: Record<string, unknown>, ...args: unknown[]): unknown {
    const registry = this?.[REGISTRY_PROPERTY] as LeaderElectionRegistry | undefined;
    if (!registry) throw new SetupError(LEADER_ONLY_WITHOUT_REGISTRY(className, methodName));
    // A once job's tick: claimed in the Lease, then run (see OnceJobs); resolves undefined.
    if (once && registry.onceJobs.has(election, task)) {
      return registry.onceJobs.tick(election, task).then(() => undefined);
    }
    const registered = registry.get(election);
    const elector = registered.electorFor(task);
    // Held back during a rollout changing `shares`: skipped, the election logs why (once).
    const held = registered.holdsBack(task);
    const work = held ? null : elector.beginLeaderWork(task);
    if (!work) {
      if (held) elector.recordSkippedWork(task);
      if (isHandler(this, gated)) {
        throw refusedBefore(
          new NotLeaderException(election, held ? null : elector.getLeader()),
          gated,
        );
      }
      const line = held ? undefined : skipLine(elector, election, task, className, methodName);
      if (line) logger.debug(line);
      return isAsync ? Promise.resolve(undefined) : undefined;
    }
    if (confirm) {
      // Admitted first (shutdown waits for it), then confirmed by a renew, then run.
      return (async () => {
        try {
          const confirmed = await elector.confirmLeadership();
          if (!confirmed || !work.isCurrent() || registered.holdsBack(task)) {
            const leader = elector.getLeader();
            if (isHandler(this, gated)) {
              throw refusedBefore(new NotLeaderException(election, leader), gated);
            }
            logger.debug(SKIPPED_NOT_CONFIRMED(className, methodName, election, leader));
            return undefined;
          }
          return await original.apply(this, args);
        } finally {
          work.end();
        }
      })();
    }
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      work.end();
      throw error;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).finally(() => work.end());
    }
    if (isObservable(result)) {
      // Ends when the subscriber (Nest's router) completes, errors or unsubscribes.
      return result.pipe(finalize(() => work.end()));
    }
    work.end();
    return result;
  };

  // Other decorators (@Cron, @Interval, @Timeout, @OnEvent, route metadata...) keep working in
  // either order: copy what was already defined on the original onto the wrapper.
  for (const metadataKey of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), gated);
  }
  Object.defineProperty(gated, 'name', { value: original.name, configurable: true });
  Reflect.defineMetadata(LEADER_ONLY_METADATA, election, gated);
  Reflect.defineMetadata(LEADER_ONLY_JOB_METADATA, task, gated);
  if (once) Reflect.defineMetadata(LEADER_ONLY_ONCE_METADATA, once, gated);
  if (forward !== undefined) Reflect.defineMetadata(LEADER_ONLY_FORWARD_METADATA, forward, gated);
  originals.set(gated, original);
  descriptor.value = gated;

  // Each instance reaches its own app's registry through property injection, so several Nest apps
  // in one process stay apart.
  const type = (prototype as { constructor: object }).constructor;
  if (!Reflect.hasOwnMetadata(REGISTRY_INJECTED, type)) {
    Reflect.defineMetadata(REGISTRY_INJECTED, true, type);
    Inject(LeaderElectionRegistry)(prototype, REGISTRY_PROPERTY);
  }
}

/** The method a `@LeaderOnly` wrapper wraps: `once` runs call it directly, after their claim. */
const originals = new WeakMap<object, AnyFunction>();

/** The method `gated` wraps, or undefined when it is no `@LeaderOnly` wrapper. */
export function originalOf(gated: object): AnyFunction | undefined {
  return originals.get(gated);
}

/** The `once` options of a `@LeaderOnly` wrapper, if it is a `once` job's. */
export function onceOf(gated: object): OnceOptions | undefined {
  return Reflect.getMetadata(LEADER_ONLY_ONCE_METADATA, gated) as OnceOptions | undefined;
}

/** Checks the `once` options (a {@link SetupError} naming the option and rule) and fills defaults. */
function onceOptions(options: LeaderOnlyOptions): OnceOptions | undefined {
  const { once, catchUp, catchUpWindow, rerunInterrupted } = options;
  if (once !== true) {
    for (const [name, value] of Object.entries({ catchUp, catchUpWindow, rerunInterrupted })) {
      if (value !== undefined) throw new SetupError(ONCE_ONLY_OPTION(name));
    }
    return undefined;
  }
  if (options.confirm) throw new SetupError(ONCE_WITH_CONFIRM);
  if (catchUp !== undefined && !['latest', 'all', 'none'].includes(catchUp)) {
    throw new SetupError(CATCH_UP_POLICY(catchUp));
  }
  const window = catchUpWindow ?? DEFAULT_CATCH_UP_WINDOW;
  if (!Number.isSafeInteger(window) || window < 0 || window > MAX_CATCH_UP_WINDOW) {
    throw new SetupError(CATCH_UP_WINDOW(catchUpWindow, MAX_CATCH_UP_WINDOW));
  }
  if (rerunInterrupted !== undefined && typeof rerunInterrupted !== 'boolean') {
    throw new SetupError(RERUN_INTERRUPTED(rerunInterrupted));
  }
  return {
    catchUp: catchUp ?? 'latest',
    catchUpWindow: window,
    rerunInterrupted: rerunInterrupted ?? false,
  };
}

/** Per class and method: is it a request handler (controller, gateway or message pattern)? */
const handlerCache = new WeakMap<object, WeakMap<object, boolean>>();

/** Whether `method` of `instance` is a controller, gateway or message handler (cached per class). */
export function isHandler(instance: object, method: object): boolean {
  const type = instance.constructor;
  let perMethod = handlerCache.get(type);
  if (!perMethod) {
    perMethod = new WeakMap();
    handlerCache.set(type, perMethod);
  }
  let handler = perMethod.get(method);
  if (handler === undefined) {
    handler =
      Reflect.hasMetadata(NEST_CONTROLLER_WATERMARK, type) ||
      Reflect.hasMetadata(NEST_GATEWAY_METADATA, type) ||
      Reflect.hasMetadata(NEST_MESSAGE_PATTERN_METADATA, method);
    perMethod.set(method, handler);
  }
  return handler;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
