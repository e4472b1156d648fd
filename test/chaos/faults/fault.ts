// What a fault kind is to the harness: a step that injects it into a run (and undoes it where it
// is undone), given the leader at the injection, and returns what the report should say about it.
import type { FaultName } from '../fault-kinds.js';
import type { ChaosRun } from '../runner/chaos-run.js';
import type { Replica } from '../runner/replica-process.js';

/** One injection: the run, the kind drawn, and where the run stood when it began. */
export interface FaultContext {
  readonly run: ChaosRun;
  readonly kind: FaultName;
  /** The stable leader found before the injection. */
  readonly leader: Replica;
  /** When the injection began (real time, ms). */
  readonly start: number;
  /** The run's event count at the injection: events from here on are the fault's. */
  readonly since: number;
}

/** What a fault reports beyond its timings (all optional). */
export interface FaultOutcome {
  note?: string;
  /** Leases still naming a replica stopped with SIGTERM after it exited. */
  unreleased?: string[];
  /** `rolling-update`: the replicas it replaced. */
  replaced?: string[];
  /** Broken promises the fault checks itself (a spread kind's bound): each fails the run. */
  problems?: string[];
  /** `spread-shares-mixed`: the jobs whose share differs between the share counts. */
  movedJobs?: string[];
}

/** Injects one fault kind; resolves once it is injected (and undone, if it is undone). */
export type Fault = (fault: FaultContext) => Promise<FaultOutcome | void>;

/** A family of fault kinds, by name. */
export type FaultFamily = Partial<Record<FaultName, Fault>>;
