import { InMemoryLeaseStore } from '../../lib/core/memory-lock.js';
import type { LeaseRecord, LeaseSpec } from '../../lib/core/lease-record.js';
import type { Trace } from './trace.js';

/**
 * One Lease of the simulated API server: the in-memory store (the API server's concurrency rules:
 * resourceVersions, 409s, create-on-update) plus a trace line per write. The simulated network
 * (network.ts) calls it when a request reaches the server; answers and watch events travel back
 * through the scheduler.
 */
export class SimLease {
  readonly store = new InMemoryLeaseStore();

  constructor(
    readonly name: string,
    private readonly trace: Trace,
    /**
     * Like the Kubernetes lock, never say that a created Lease is new (`neverExistedBefore`): the
     * first creator then waits one lease duration too.
     */
    private readonly clusterLike: boolean,
  ) {}

  current(): LeaseRecord | null {
    return this.store.current();
  }

  create(spec: LeaseSpec, by: string): LeaseRecord {
    return this.write(by, 'create', () => {
      const written = this.store.doCreate(spec);
      if (!this.clusterLike) return written;
      const { neverExistedBefore: _new, ...record } = written;
      return record;
    });
  }

  update(spec: LeaseSpec, resourceVersion: string, by: string): LeaseRecord {
    // A writer that sends no ledger (a client-go peer) keeps the one stored, as a write of the
    // Lease's spec keeps its annotations on the API server.
    const kept = this.store.current()?.fires;
    const write = spec.fires === undefined && kept ? { ...spec, fires: kept } : spec;
    return this.write(by, `update@${resourceVersion}`, () =>
      this.store.doUpdate(write, resourceVersion),
    );
  }

  /** An operator's `kubectl delete lease`. */
  delete(): void {
    const deleted = this.store.current();
    this.store.adminWrite(null);
    this.trace.add(this.name, `deleted by an operator (was ${describe(deleted)})`);
  }

  /** An operator's edit of the existing record (no version check). */
  edit(fields: Partial<Omit<LeaseRecord, 'resourceVersion'>>): void {
    const written = this.store.adminWrite(fields);
    this.trace.add(
      this.name,
      `edited by an operator ${JSON.stringify(fields)}: ${describe(written)}`,
    );
  }

  private write(by: string, operation: string, run: () => LeaseRecord): LeaseRecord {
    try {
      const written = run();
      this.trace.add(this.name, `${by} ${operation} -> ${describe(written)}`);
      return written;
    } catch (error) {
      this.trace.add(this.name, `${by} ${operation} -> ${(error as Error).name}`);
      throw error;
    }
  }
}

/** One record in a trace line. */
export function describe(record: LeaseRecord | null): string {
  if (!record) return 'none';
  const members = record.members ? ` members=${Object.keys(record.members).join(',')}` : '';
  const preferred = record.preferredHolder ? ` preferred=${record.preferredHolder}` : '';
  const fires = record.fires
    ? ` fires=${Object.entries(record.fires.jobs)
        .map(([job, entry]) => `${job}@${entry.at}/${entry.term}/${entry.state}`)
        .join(',')}`
    : '';
  return (
    `rv=${record.resourceVersion} holder=${record.holderIdentity || '""'} ` +
    `duration=${record.leaseDurationSeconds} transitions=${record.leaseTransitions}` +
    `${preferred}${members}${fires}`
  );
}
