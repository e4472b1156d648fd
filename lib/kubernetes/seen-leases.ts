import type { V1Lease } from '@kubernetes/client-node';
import { isNewerVersion } from '../core/fencing-token.js';

/**
 * How many Lease objects {@link SeenLeases} keeps. A write is based on the newest record the elector
 * knows (its own last write, the watched record, a fresh read), which is never dropped; the older
 * ones only matter while late watch events and answers still arrive out of order.
 */
const KEPT = 8;

/** Whether `a` is an older version of the Lease than `b` (decimal resourceVersions compare). */
function olderThan(a: V1Lease, b: V1Lease): boolean {
  const version = (lease: V1Lease) => ({ resourceVersion: lease.metadata?.resourceVersion ?? '' });
  return isNewerVersion(version(b), version(a)) && !isNewerVersion(version(a), version(b));
}

/**
 * The Lease objects a lock has seen lately (answers and watch events), by resourceVersion, so that
 * a replace carries the metadata (labels, annotations, owner references) and the other spec fields
 * of exactly the object it is conditioned on. Watch events and answers race: the last object to
 * arrive is not always the newest, and a replace based on an older one would drop what another
 * writer added since.
 */
export class SeenLeases {
  private readonly byVersion = new Map<string, V1Lease>();
  private latest: V1Lease | undefined;

  /** Remembers `lease`; an older version never replaces the newest. */
  add(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion;
    if (!version) return;
    this.byVersion.delete(version);
    this.byVersion.set(version, lease);
    if (!this.latest || !olderThan(lease, this.latest)) this.latest = lease;
    if (this.byVersion.size > KEPT) this.byVersion.delete(this.oldestVersion());
  }

  /** The object seen at `resourceVersion`, if still kept. */
  at(resourceVersion: string): V1Lease | undefined {
    return this.byVersion.get(resourceVersion);
  }

  /** The newest object seen. */
  get newest(): V1Lease | undefined {
    return this.latest;
  }

  /** The oldest kept version other than the newest (the first seen when versions do not compare). */
  private oldestVersion(): string {
    let oldest: V1Lease | undefined;
    for (const lease of this.byVersion.values()) {
      if (lease === this.latest) continue;
      if (!oldest || olderThan(lease, oldest)) oldest = lease;
    }
    return oldest!.metadata!.resourceVersion!;
  }
}
