import type { LeaseRecord, LeaseSpec } from './lease-record.js';

/** A lock operation: one API request each (a watch counts once, when it is opened). */
export type LockOperation = 'get' | 'create' | 'update' | 'watch';

/** Options every lock call accepts. */
export interface LockCallOptions {
  /** Aborts the request (the elector's per-request timeout, or shutdown). */
  readonly signal?: AbortSignal;
}

/** An event of a watch on the one Lease. */
export type LockWatchEvent =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly record: LeaseRecord }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string };

/** Callbacks of {@link LeaseLock.watch}. */
export interface LockWatchHandlers {
  /**
   * Optional: called once the watch is established (the server accepted it), before any event.
   * The elector uses it to know the API server is reachable while nothing changes.
   */
  onOpen?(): void;
  /** A change of the Lease (added, modified, deleted) or a bookmark with a newer resourceVersion. */
  onEvent(event: LockWatchEvent): void;
  /**
   * Called exactly once when the watch ends: without an error for a normal close (server timeout),
   * with a {@link LockGoneError} when `resourceVersion` is too old, with another error otherwise.
   * Not called after {@link LockWatch.close}.
   */
  onClose(error?: unknown): void;
}

/** A running watch, from {@link LeaseLock.watch}. */
export interface LockWatch {
  /** Stops the watch; no handler is called afterwards. */
  close(): void;
}

/**
 * The storage an election runs on: one record, read, created and updated with optimistic
 * concurrency, and watched. `lib/kubernetes` implements it over a Lease; tests use
 * {@link InMemoryLeaseLock}.
 *
 * Errors are reported as {@link LockError} subclasses: conflict (409), not found (404),
 * forbidden (401/403), gone (410, watch only), rejected (400/422), unavailable (network, 5xx, timeout).
 */
export interface LeaseLock {
  /** This candidate's identity, written as `holderIdentity`. */
  readonly identity: string;
  /** Human-readable name of the lock, e.g. `lease default/my-app`. */
  readonly description: string;
  /** Reads the record; resolves `null` when it does not exist. */
  get(options?: LockCallOptions): Promise<LeaseRecord | null>;
  /** Creates the record; rejects with a conflict when it exists. */
  create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord>;
  /** Replaces the record if it is still at `resourceVersion`; conflict otherwise, not found when deleted. */
  update(spec: LeaseSpec, resourceVersion: string, options?: LockCallOptions): Promise<LeaseRecord>;
  /**
   * Watches the record from `resourceVersion` (or from now, with the current state as ADDED, without
   * one). Handlers are called only after `watch` has returned (asynchronously): calls made during it
   * are ignored.
   */
  watch(handlers: LockWatchHandlers, options?: { readonly resourceVersion?: string }): LockWatch;
  /** Optional: releases connections; called once when its elector (or membership) has stopped. */
  close?(): void;
}
