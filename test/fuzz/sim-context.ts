import type { ElectionTimings } from '../../lib/core/timing.js';
import type { Checker } from './invariants.js';
import type { SimLease } from './lease-stores.js';
import type { Host, Network } from './network.js';
import type { Random } from './random.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

/** What the replicas of one simulated run share. */
export interface SimContext {
  readonly scheduler: Scheduler;
  readonly network: Network;
  readonly trace: Trace;
  readonly checker: Checker;
  readonly timings: ElectionTimings;
  /** How often each decision reason of the engine (`DecisionReason`) was reached. */
  readonly decisions: Map<string, number>;
  /** The Lease of this name on the simulated API server. */
  lease(name: string): SimLease;
  /** An independent random stream. */
  random(label: string): Random;
  /** A new process on a machine whose clocks run at `rate`. */
  newHost(name: string, rate: number): Host;
  /** Whether replicas on the single Lease also run a `once` cron job (`--once`). */
  readonly once?: boolean;
  /**
   * Whether replicas of ours know a revision (`--revisions`): launches run the current one, and
   * every restart rolls a new one out, so followers announce themselves and releases name them.
   */
  readonly revisions?: boolean;
}

/** One process's view of one Lease, for the checker: does it lead, with which token. */
export interface LeaderView {
  readonly lease: string;
  readonly who: string;
  leads(): boolean;
  token(): string | null;
}

/** A simulated replica: our elector, a client-go peer, or an election spread over shares. */
export interface Replica {
  readonly identity: string;
  readonly kind: 'ours' | 'client-go' | 'spread';
  readonly host: Host;
  readonly views: readonly LeaderView[];
  start(): void;
  stop(): Promise<void>;
  /** The Leases this replica holds by its own account (activating or leading). */
  holds(): string[];
  /** Log lines since global time `from` (our electors only). */
  logSince(from: number): readonly { readonly message: string }[];
}
