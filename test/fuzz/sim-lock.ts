import type { LeaseRecord, LeaseSpec } from '../../lib/core/lease-record.js';
import type { LeaseLock, LockWatch, LockWatchHandlers } from '../../lib/core/lock.js';
import type { SimLease } from './lease-stores.js';
import type { Host, Network } from './network.js';

/**
 * One process's {@link LeaseLock} on one simulated Lease: requests and watches go through the
 * simulated network. Abort signals are not honoured: a request the client gave up on may still
 * reach the server and be applied, as on a real network (the elector races its own timeout).
 *
 * It also keeps what the checker needs to judge leader work without trusting the elector: when the
 * latest write of ours that names us and was answered started, by our clock. (An answer may come
 * after the elector's request timeout and still be taken, when the process was paused: its timeout
 * timer runs after the answer. A term rests on the request's start, so that is safe.)
 */
export class SimLock implements LeaseLock {
  readonly description: string;
  /** Start (this process's monotonic clock) of our latest answered write naming us. */
  lastOwnWriteStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly network: Network,
    private readonly host: Host,
    readonly lease: SimLease,
    readonly identity: string,
  ) {
    this.description = `lease fuzz/${lease.name}`;
  }

  get(): Promise<LeaseRecord | null> {
    return this.network.request(this.host, () => this.lease.current());
  }

  create(spec: LeaseSpec): Promise<LeaseRecord> {
    return this.write(() => this.lease.create(spec, this.identity));
  }

  update(spec: LeaseSpec, resourceVersion: string): Promise<LeaseRecord> {
    return this.write(() => this.lease.update(spec, resourceVersion, this.identity));
  }

  watch(handlers: LockWatchHandlers, options: { resourceVersion?: string } = {}): LockWatch {
    return this.network.watch(
      this.host,
      this.lease,
      this.identity,
      handlers,
      options.resourceVersion,
    );
  }

  private async write(apply: () => LeaseRecord): Promise<LeaseRecord> {
    const clock = this.host.clock;
    const sentAt = clock.now();
    const written = await this.network.request(this.host, apply);
    if (written.holderIdentity === this.identity) {
      this.lastOwnWriteStart = Math.max(this.lastOwnWriteStart, sentAt);
    }
    return written;
  }
}
