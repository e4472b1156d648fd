import {
  LockConflictError,
  LockGoneError,
  LockRejectedError,
  LockUnavailableError,
} from '../../lib/core/errors.js';
import type { LockWatch, LockWatchEvent, LockWatchHandlers } from '../../lib/core/lock.js';
import type { Random } from './random.js';
import type { Scheduler, SimProcess } from './scheduler.js';
import type { SimClock } from './sim-clock.js';
import type { SimLease } from './lease-stores.js';

/** Errors the API server answers with, injected by the fault schedule. */
export type InjectedError = '409' | '422' | '429' | '500' | '503';

/**
 * The faults currently applied to one process's connection to the API server. Each is a count of
 * the faults that set it (faults overlap), and holds while above zero.
 */
export class Link {
  /** Requests (and new watches) are refused at once: connection refused. */
  refuse = 0;
  /** Requests (and new watches) vanish on the way to the server. */
  dropUp = 0;
  /** Answers and watch events vanish on the way back (a watch that loses one is dead for good). */
  dropDown = 0;
  slowRequests = 0;
  slowAnswers = 0;
  lostAnswers = 0;
  /** Watch events arrive late (in order). */
  watchDelay = 0;
  /** Watch events are held back and then arrive all at once, in order. */
  watchBurst = 0;
  /** Every request is answered 503 (an overloaded API server whose watch streams stay open). */
  unavailable = 0;
  readonly errors: InjectedError[] = [];
  readonly watches = new Set<SimWatch>();
  /** Watch messages held back by a burst, in order. */
  readonly burst: (() => void)[] = [];
}

/** A simulated process with its clock and its connection. */
export interface Host {
  readonly name: string;
  readonly process: SimProcess;
  readonly clock: SimClock;
  readonly link: Link;
}

interface SimWatch {
  readonly host: Host;
  readonly handlers: LockWatchHandlers;
  closed: boolean;
  /** A black-holed connection: nothing arrives any more, and the client does not know. */
  dead: boolean;
  /** Watch messages arrive in order: none before this time. */
  lastDelivery: number;
  server?: LockWatch;
}

type WatchMessage =
  | { readonly kind: 'open' }
  | { readonly kind: 'event'; readonly event: LockWatchEvent }
  | { readonly kind: 'close'; readonly error?: Error };

/**
 * The network between the simulated processes and the simulated API server: every request reaches
 * the server as a task after its latency, and every answer and watch event reaches its process as a
 * task (held while the process is paused), with the faults of its {@link Link}.
 */
export class Network {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    /** After this long without an answer, a request fails on the client (its socket timeout). */
    private readonly socketTimeout: number,
  ) {}

  /** One request: `apply` runs on the server when it arrives; its result or error travels back. */
  request<T>(host: Host, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { link, process } = host;
      const sentAt = this.scheduler.now;
      const deliver = (at: number, settle: () => void) =>
        this.scheduler.schedule(at, process, 'delivery', settle);
      const lose = () =>
        deliver(Math.max(sentAt + this.socketTimeout, this.scheduler.now), () =>
          reject(new LockUnavailableError('no answer: the connection timed out (simulated)')),
        );
      if (link.refuse > 0) {
        deliver(sentAt + this.latency(), () =>
          reject(new LockUnavailableError('connection refused (simulated)')),
        );
        return;
      }
      if (link.dropUp > 0) return void lose();
      const slow = link.slowRequests > 0 && this.random.chance(0.6);
      const arrival = sentAt + this.latency() + (slow ? this.slowness() : 0);
      this.scheduler.schedule(arrival, undefined, 'world', () => {
        let outcome: { ok: true; value: T } | { ok: false; error: unknown };
        const injected = link.errors.length > 0 && this.random.chance(0.6);
        try {
          if (link.unavailable > 0) throw injectedError('503');
          if (injected) throw injectedError(this.random.pick(link.errors));
          outcome = { ok: true, value: apply() };
        } catch (error) {
          outcome = { ok: false, error };
        }
        if (link.dropDown > 0 || (link.lostAnswers > 0 && this.random.chance(0.5))) return lose();
        const slowAnswer = link.slowAnswers > 0 && this.random.chance(0.6);
        const at = this.scheduler.now + this.latency() + (slowAnswer ? this.slowness() : 0);
        deliver(at, () => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)));
      });
    });
  }

  /** A watch of `lease` from `resourceVersion` (see `LeaseLock.watch`). */
  watch(
    host: Host,
    lease: SimLease,
    identity: string,
    handlers: LockWatchHandlers,
    resourceVersion: string | undefined,
  ): LockWatch {
    const watch: SimWatch = { host, handlers, closed: false, dead: false, lastDelivery: 0 };
    const close = () => {
      watch.closed = true;
      watch.server?.close();
      host.link.watches.delete(watch);
    };
    const { link } = host;
    if (link.refuse > 0) {
      link.watches.add(watch);
      this.toClient(
        watch,
        { kind: 'close', error: new LockUnavailableError('connection refused (simulated)') },
        this.scheduler.now + this.latency(),
      );
      return { close };
    }
    link.watches.add(watch);
    if (link.dropUp > 0) return { close }; // never answered: the client's watchdog gives up
    this.scheduler.schedule(this.scheduler.now + this.latency(), undefined, 'world', () => {
      if (watch.closed) return;
      watch.server = lease.store.doWatch(
        identity,
        {
          onOpen: () => this.fromServer(watch, { kind: 'open' }),
          onEvent: (event) => this.fromServer(watch, { kind: 'event', event }),
          onClose: (error) => this.fromServer(watch, { kind: 'close', error: error as Error }),
        },
        resourceVersion,
      );
    });
    return { close };
  }

  /** The server ends `host`'s open watches (normally, with 410 Gone, or with an error). */
  closeWatches(host: Host, how: 'normal' | 'gone' | 'error'): void {
    for (const watch of [...host.link.watches]) {
      watch.server?.close();
      const error =
        how === 'gone'
          ? new LockGoneError('too old resource version (simulated)')
          : how === 'error'
            ? new LockUnavailableError('watch ended: 503 (simulated)')
            : undefined;
      this.fromServer(watch, { kind: 'close', error });
    }
  }

  /** `host`'s open watches go silent for good (a black-holed connection); new ones work. */
  blackHoleWatches(host: Host): void {
    for (const watch of host.link.watches) watch.dead = true;
  }

  /** The connection is refused from now on: open watches end with an error. */
  refuseConnections(host: Host): void {
    host.link.refuse += 1;
    for (const watch of [...host.link.watches]) {
      watch.server?.close();
      watch.server = undefined;
      this.toClient(
        watch,
        { kind: 'close', error: new LockUnavailableError('connection reset (simulated)') },
        this.scheduler.now + this.latency(),
      );
    }
  }

  /** The end of a burst: what was held back arrives now, in order. */
  releaseBurst(host: Host): void {
    if (host.link.watchBurst > 0) return;
    for (const send of host.link.burst.splice(0)) send();
  }

  /** The process died: the server sees its connections close. */
  disconnect(host: Host): void {
    for (const watch of [...host.link.watches]) {
      watch.closed = true;
      watch.server?.close();
    }
    host.link.watches.clear();
  }

  /** A message the server sends on a watch, subject to the link's faults on the way back. */
  private fromServer(watch: SimWatch, message: WatchMessage): void {
    if (watch.closed || watch.dead) return;
    const { link } = watch.host;
    if (link.dropDown > 0) {
      // A stream that lost a message delivers nothing more (TCP): the watch is dead, silently.
      watch.dead = true;
      return;
    }
    if (link.watchBurst > 0) {
      link.burst.push(() => this.toClient(watch, message, this.scheduler.now + 1));
      return;
    }
    const delay = this.latency() + (link.watchDelay > 0 ? this.random.uniform(200, 5000) : 0);
    this.toClient(watch, message, this.scheduler.now + delay);
  }

  private toClient(watch: SimWatch, message: WatchMessage, at: number): void {
    const when = Math.max(at, watch.lastDelivery);
    watch.lastDelivery = when;
    // Sent before the connection died, it arrives (held in the socket while the process is paused).
    this.scheduler.schedule(when, watch.host.process, 'delivery', () => {
      if (watch.closed) return;
      if (message.kind === 'open') watch.handlers.onOpen?.();
      else if (message.kind === 'event') watch.handlers.onEvent(message.event);
      else {
        watch.closed = true;
        watch.host.link.watches.delete(watch);
        watch.handlers.onClose(message.error);
      }
    });
  }

  /** One way through the network, ms. */
  private latency(): number {
    return this.random.uniform(0.3, 3);
  }

  /** Extra time of a slow request or answer: up to well past the client's request timeout. */
  private slowness(): number {
    return this.random.uniform(0.2, 1.6) * this.socketTimeout;
  }
}

function injectedError(kind: InjectedError): Error {
  switch (kind) {
    case '409':
      return new LockConflictError('the object has been modified (simulated 409)');
    case '422':
      return new LockRejectedError('Lease is invalid (simulated 422)');
    case '429':
      return new LockUnavailableError('too many requests (simulated 429)');
    case '500':
      return new LockUnavailableError('internal error (simulated 500)');
    case '503':
      return new LockUnavailableError('service unavailable (simulated 503)');
  }
}
