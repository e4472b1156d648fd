import type { ElectionEngine, ElectionEngineStatus } from './election-engine.js';
import type { LeaderChangeEvent } from './elector-status.js';
import type { LeaderElector } from './leader-elector.js';

/** The {@link ElectionEngine} of an election on one Lease: its one {@link LeaderElector}. */
export class SingleElection implements ElectionEngine {
  readonly electors: readonly LeaderElector[];

  constructor(
    /** The election's elector. */
    readonly single: LeaderElector,
  ) {
    this.electors = [single];
  }

  get identity(): string {
    return this.single.identity;
  }

  /** Every job runs where the one elector leads. */
  electorFor(): LeaderElector {
    return this.single;
  }

  /** No shares: undefined. */
  shareOf(): undefined {
    return undefined;
  }

  /** No shares, one mapping: never. */
  holdsBack(): boolean {
    return false;
  }

  onChange(listener: (event: LeaderChangeEvent) => void): () => void {
    return this.single.onChange(listener);
  }

  leaseNames(): string[] {
    return [this.single.name];
  }

  /** Nothing beyond the elector's own status. */
  status(): ElectionEngineStatus {
    return {};
  }

  start(): void {
    this.single.start();
  }

  stop(): Promise<void> {
    return this.single.stop();
  }
}
