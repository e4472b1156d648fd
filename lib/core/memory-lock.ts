import {
  LockConflictError,
  LockGoneError,
  LockRejectedError,
  LockUnavailableError,
} from './errors.js';
import type { LeaseRecord, LeaseSpec } from './lease-record.js';
import type {
  LeaseLock,
  LockCallOptions,
  LockOperation,
  LockWatch,
  LockWatchEvent,
  LockWatchHandlers,
} from './lock.js';

/** A recorded lock call, for asserting how many API requests an election makes. */
export interface LockCall {
  /** The calling candidate's identity. */
  readonly identity: string;
  /** The lock operation, one API request each. */
  readonly operation: LockOperation;
}

interface Watcher {
  readonly identity: string;
  readonly handlers: LockWatchHandlers;
  closed: boolean;
  /** Events are dropped (a black-holed connection), see {@link InMemoryLeaseStore.muteOpenWatches}. */
  muted?: boolean;
  /**
   * Frozen at this version: each event is replaced by a bookmark at it (an API server cut from
   * etcd), see {@link InMemoryLeaseStore.staleOpenWatches}.
   */
  staleAt?: number;
}

/**
 * An in-memory Lease shared by several {@link InMemoryLeaseLock}s: one per candidate, as several
 * processes share one Lease on the API server. It keeps the server's concurrency rules
 * (resourceVersion on every write, 409 on a stale version or an existing object, 404 on update of a
 * missing object) and delivers watch events synchronously-in-order on the microtask queue.
 *
 * Test hooks: {@link calls} records every request; {@link failNext} / {@link setUnavailable} inject
 * errors; {@link hold} makes requests hang until released; {@link adminWrite} edits the record as an
 * administrator would.
 */
export class InMemoryLeaseStore {
  private record: LeaseRecord | null = null;
  /** Whether a record ever existed: a create answers `neverExistedBefore` until then. */
  private existed = false;
  /** One store-wide counter, like etcd's revision: versions keep increasing across deletions. */
  private version = 0;
  private uids = 0;
  private watchers = new Set<Watcher>();
  private history: { version: number; event: LockWatchEvent }[] = [];
  private failures: { operation: LockOperation | '*'; error: Error; identity?: string }[] = [];
  private unavailable = false;
  private readonly muted = new Set<string>();
  private readonly watchBlocked = new Set<string>();
  private readonly watchStalled = new Set<string>();
  private readonly pendingWatchers = new Set<Watcher>();
  private held: (() => void)[] | null = null;
  private heldOperation: LockOperation | '*' = '*';
  private heldIdentity: string | undefined;
  private readonly partitioned = new Set<string>();

  /** Every request, in order. */
  readonly calls: LockCall[] = [];

  /** The current record (treat it as read-only), or null. */
  current(): LeaseRecord | null {
    return this.record;
  }

  /** Number of calls, optionally filtered by identity and operation. */
  count(filter: { identity?: string; operation?: LockOperation } = {}): number {
    return this.calls.filter(
      (call) =>
        (filter.identity === undefined || call.identity === filter.identity) &&
        (filter.operation === undefined || call.operation === filter.operation),
    ).length;
  }

  /** Makes the next `operation` call (optionally only for `identity`) fail with `error`. */
  failNext(operation: LockOperation | '*', error: Error, identity?: string): void {
    this.failures.push({ operation, error, identity });
  }

  /** While true, every request fails as if the API server were unreachable; open watches end. */
  setUnavailable(unavailable: boolean): void {
    this.unavailable = unavailable;
    if (unavailable) {
      for (const watcher of [...this.watchers]) {
        this.endWatch(watcher, new LockUnavailableError('connection refused (simulated)'));
      }
    }
  }

  /**
   * Silently stops delivering watch events to `identity`'s watches (they stay open): a watch that
   * is dead without anyone noticing. `false` resumes delivery (missed events stay missed).
   */
  muteWatches(identity: string, muted = true): void {
    if (muted) this.muted.add(identity);
    else this.muted.delete(identity);
  }

  /**
   * Silently stops delivering events to the watches of `identity` open at this moment (they stay
   * open), like a black-holed connection; watches opened later work. Unlike {@link muteWatches},
   * a re-opened watch replays what the dead one missed.
   */
  muteOpenWatches(identity: string): void {
    for (const watcher of this.watchers) if (watcher.identity === identity) watcher.muted = true;
  }

  /**
   * Freezes the watches of `identity` open at this moment at the current version, like watches on
   * an API server cut from etcd: they stay open and keep sending bookmarks at that version (one for
   * every change they no longer deliver), so they are never silent. Watches opened later work.
   */
  staleOpenWatches(identity: string): void {
    for (const watcher of this.watchers)
      if (watcher.identity === identity) watcher.staleAt = this.version;
  }

  /**
   * While stalled, `identity`'s new watches never open: no answer, no event, no close, until closed
   * by the client (a request black-holed before the server's answer). They stay stuck after `false`.
   */
  stallWatches(identity: string, stalled = true): void {
    if (stalled) this.watchStalled.add(identity);
    else this.watchStalled.delete(identity);
  }

  /** Number of watches that were opened but never answered (see {@link stallWatches}). */
  get stalledWatches(): number {
    return this.pendingWatchers.size;
  }

  /** While blocked, `identity`'s watches end at once with an error (its re-watches keep failing). */
  blockWatches(identity: string, blocked = true): void {
    if (blocked) {
      this.watchBlocked.add(identity);
      for (const watcher of [...this.watchers]) {
        if (watcher.identity === identity) {
          this.endWatch(watcher, new LockUnavailableError('watch refused (simulated)'));
        }
      }
    } else {
      this.watchBlocked.delete(identity);
    }
  }

  /**
   * Makes every request (or every `operation` request, optionally only `identity`'s) hang until
   * {@link release} is called.
   */
  hold(operation: LockOperation | '*' = '*', identity?: string): void {
    this.held ??= [];
    this.heldOperation = operation;
    this.heldIdentity = identity;
  }

  /**
   * Cuts `identity` off (or reconnects it with `false`): its requests fail as unreachable and its
   * watches end with an error, while the others go on, like a network partition of one process.
   */
  partition(identity: string, cut = true): void {
    if (cut) this.partitioned.add(identity);
    else this.partitioned.delete(identity);
    this.blockWatches(identity, cut);
  }

  /** Lets held requests continue. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const resume of held) resume();
  }

  /** Ends every open watch with `error` (or a normal close), as a server restart would. */
  closeWatches(error?: Error): void {
    for (const watcher of [...this.watchers]) this.endWatch(watcher, error);
  }

  /** Writes the record as an administrator would (no version check). `null` deletes it. */
  adminWrite(fields: Partial<Omit<LeaseRecord, 'resourceVersion'>> | null): LeaseRecord | null {
    if (fields === null) {
      const deleted = this.record;
      this.record = null;
      if (deleted)
        this.publish({ type: 'DELETED', record: { ...deleted, resourceVersion: this.bump() } });
      return null;
    }
    const base: Omit<LeaseRecord, 'resourceVersion'> = this.record ?? {
      holderIdentity: null,
      leaseDurationSeconds: null,
      acquireTime: null,
      renewTime: null,
      leaseTransitions: null,
    };
    const existed = this.record !== null;
    this.existed = true;
    this.record = {
      ...base,
      ...fields,
      resourceVersion: this.bump(),
      uid: this.record?.uid ?? this.newUid(),
    };
    this.publish({ type: existed ? 'MODIFIED' : 'ADDED', record: this.record });
    return this.record;
  }

  /**
   * Runs one call of an {@link InMemoryLeaseLock}: records it, applies the injected faults (hold,
   * unavailable, failNext) and the abort signal, then `run`.
   * @internal
   */
  async request<T>(
    identity: string,
    operation: LockOperation,
    options: LockCallOptions | undefined,
    run: () => T,
  ): Promise<T> {
    this.calls.push({ identity, operation });
    await Promise.resolve();
    if (
      this.held &&
      (this.heldOperation === '*' || this.heldOperation === operation) &&
      (this.heldIdentity === undefined || this.heldIdentity === identity)
    ) {
      await new Promise<void>((resolve, reject) => {
        this.held!.push(resolve);
        options?.signal?.addEventListener('abort', () =>
          reject(new LockUnavailableError(`request aborted: ${String(options.signal?.reason)}`)),
        );
      });
    }
    options?.signal?.throwIfAborted();
    if (this.unavailable || this.partitioned.has(identity)) {
      throw new LockUnavailableError('connection refused (simulated)');
    }
    const index = this.failures.findIndex(
      (failure) =>
        (failure.operation === '*' || failure.operation === operation) &&
        (failure.identity === undefined || failure.identity === identity),
    );
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      throw failure.error;
    }
    return run();
  }

  /**
   * Creates the record (409 if it exists), as the API server's `create`.
   * @internal
   */
  doCreate(spec: LeaseSpec): LeaseRecord {
    if (this.record) throw new LockConflictError('leases "memory" already exists');
    checkSpec(spec);
    const first = !this.existed;
    this.existed = true;
    this.record = { ...spec, resourceVersion: this.bump(), uid: this.newUid() };
    this.publish({ type: 'ADDED', record: this.record });
    return first ? { ...this.record, neverExistedBefore: true } : this.record;
  }

  /**
   * Replaces the record if `resourceVersion` matches (409 otherwise); creates it when it is missing,
   * as the API server does for Leases.
   * @internal
   */
  doUpdate(spec: LeaseSpec, resourceVersion: string): LeaseRecord {
    // Like the API server (Leases allow create-on-update): an update of a missing object creates it,
    // whatever resourceVersion it names.
    if (!this.record) return this.doCreate(spec);
    if (this.record.resourceVersion !== resourceVersion) {
      throw new LockConflictError(
        'the object has been modified; please apply your changes to the latest version',
      );
    }
    checkSpec(spec);
    this.record = { ...spec, resourceVersion: this.bump(), uid: this.record.uid };
    this.publish({ type: 'MODIFIED', record: this.record });
    return this.record;
  }

  /**
   * Opens a watch: with `resourceVersion`, replays the changes after it (410 if compacted); without,
   * starts with the current record as ADDED.
   * @internal
   */
  doWatch(identity: string, handlers: LockWatchHandlers, resourceVersion?: string): LockWatch {
    this.calls.push({ identity, operation: 'watch' });
    const watcher: Watcher = { identity, handlers, closed: false };
    const start = resourceVersion === undefined ? undefined : Number(resourceVersion);
    if (this.watchStalled.has(identity)) this.pendingWatchers.add(watcher);
    queueMicrotask(() => {
      if (watcher.closed || this.pendingWatchers.has(watcher)) return;
      if (this.unavailable || this.watchBlocked.has(identity)) {
        this.endWatch(watcher, new LockUnavailableError('connection refused (simulated)'));
        return;
      }
      if (start !== undefined) {
        const oldest = this.history[0]?.version ?? this.version + 1;
        if (start < oldest - 1 && start < this.version) {
          this.endWatch(watcher, new LockGoneError('too old resource version'));
          return;
        }
      }
      handlers.onOpen?.();
      if (watcher.closed) return;
      if (start === undefined) {
        if (this.record) handlers.onEvent({ type: 'ADDED', record: this.record });
      } else {
        for (const entry of this.history) if (entry.version > start) handlers.onEvent(entry.event);
      }
      this.watchers.add(watcher);
    });
    return {
      close: () => {
        watcher.closed = true;
        this.watchers.delete(watcher);
        this.pendingWatchers.delete(watcher);
      },
    };
  }

  /** Forgets the event history, so watches from an old resourceVersion get 410 Gone. */
  compact(): void {
    this.history = [];
  }

  /** Number of open watches. */
  get openWatches(): number {
    return this.watchers.size;
  }

  private newUid(): string {
    this.uids += 1;
    return `uid-${this.uids}`;
  }

  private bump(): string {
    this.version += 1;
    return String(this.version);
  }

  private publish(event: LockWatchEvent): void {
    this.history.push({ version: this.version, event });
    for (const watcher of [...this.watchers]) {
      if (this.muted.has(watcher.identity) || watcher.muted) continue;
      const delivered: LockWatchEvent =
        watcher.staleAt === undefined
          ? event
          : { type: 'BOOKMARK', resourceVersion: String(watcher.staleAt) };
      queueMicrotask(() => {
        if (!watcher.closed) watcher.handlers.onEvent(delivered);
      });
    }
  }

  private endWatch(watcher: Watcher, error?: Error): void {
    if (watcher.closed) return;
    watcher.closed = true;
    this.watchers.delete(watcher);
    queueMicrotask(() => watcher.handlers.onClose(error));
  }
}

/** `leaseTransitions` is an int32 on the API server, which refuses larger values (400). */
function checkSpec(spec: LeaseSpec): void {
  if (spec.leaseTransitions > 2_147_483_647 || spec.leaseTransitions < -2_147_483_648) {
    throw new LockRejectedError(
      `spec.leaseTransitions: ${spec.leaseTransitions} does not fit a 32-bit integer`,
    );
  }
}

/** One candidate's handle on an {@link InMemoryLeaseStore}. Implements {@link LeaseLock}. */
export class InMemoryLeaseLock implements LeaseLock {
  readonly description: string;

  constructor(
    /** The shared Lease this lock reads and writes. */
    readonly store: InMemoryLeaseStore,
    readonly identity: string,
    name = 'memory',
  ) {
    this.description = `in-memory lease ${name}`;
  }

  get(options?: LockCallOptions): Promise<LeaseRecord | null> {
    return this.store.request(this.identity, 'get', options, () => this.store.current());
  }

  create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    return this.store.request(this.identity, 'create', options, () => this.store.doCreate(spec));
  }

  update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    return this.store.request(this.identity, 'update', options, () =>
      this.store.doUpdate(spec, resourceVersion),
    );
  }

  watch(handlers: LockWatchHandlers, options: { resourceVersion?: string } = {}): LockWatch {
    return this.store.doWatch(this.identity, handlers, options.resourceVersion);
  }
}
