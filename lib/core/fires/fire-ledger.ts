/**
 * The ledger of `once` jobs' fires, kept in the election's Lease beside its election state: per job
 * the last scheduled instant claimed, by which term, and how that run ended. A claim is a renew of
 * the Lease that also writes the job's entry, so it lands only while its writer holds the Lease
 * (etcd's compare-and-swap on the resourceVersion): whatever the replicas' clocks, one fire is
 * claimed once.
 */

/** How the run of a claimed fire ended, as far as the ledger knows. */
export type FireState =
  /** Claimed; its end not recorded yet (running, or its claimant stopped before recording it). */
  | 'claimed'
  /** Ran to its end (returned or threw). */
  | 'done'
  /** Its claimant stopped leading before recording an end: a later leader reported it. */
  | 'interrupted';

/** One job's entry. */
export interface LedgerEntry {
  /** The scheduled instant last claimed, ms since the epoch (UTC). */
  readonly at: number;
  /** The `leaseTransitions` of the term that claimed it. */
  readonly term: number;
  readonly state: FireState;
  /**
   * The zone the job's schedule was evaluated in (an IANA name, or `UTC+hh:mm` for a fixed offset):
   * replicas evaluating one expression in different zones would claim different instants.
   */
  readonly zone: string;
  /** The job's period as its claimant computed it, ms: entries are pruned after 10 periods. */
  readonly period: number;
}

/** The ledger of one Lease. */
export interface FireLedger {
  /**
   * The `leaseTransitions` of the last write that kept the ledger. A new leader whose Lease's last
   * term is another one knows a holder in between did not keep it (a client that does not claim
   * fires): fires before its own term are then not caught up.
   */
  readonly term: number;
  /** The entries, by job name. */
  readonly jobs: Readonly<Record<string, LedgerEntry>>;
}

/** The most bytes the ledger may take in its annotation. */
export const LEDGER_SIZE_LIMIT = 32 * 1024;

/** Entries not claimed for this long (and for 10 of their periods) are pruned, ms. */
export const LEDGER_RETENTION = 7 * 24 * 3600 * 1000;

/** Bytes of an entry beside its job's name, at most (the JSON of its fields with the largest values). */
export const LEDGER_ENTRY_OVERHEAD = 160;

/** Bytes of the ledger's JSON as the annotation holds it (UTF-8). */
export function ledgerSize(ledger: FireLedger): number {
  return new TextEncoder().encode(JSON.stringify(encodeLedger(ledger))).length;
}

/**
 * The ledger's JSON object: `{"term":<n>,"jobs":{"<job>":{"at":<ms>,"term":<n>,"state":"done",
 * "zone":"UTC","period":<ms>}}}`.
 */
export function encodeLedger(ledger: FireLedger): Record<string, unknown> {
  return { term: ledger.term, jobs: ledger.jobs };
}

/**
 * The ledger a JSON object holds, or undefined when it holds none. Entries of the wrong shape are
 * left out (written by someone else): never trusted, never fatal.
 */
export function decodeLedger(json: Readonly<Record<string, unknown>>): FireLedger | undefined {
  const { term, jobs } = json;
  if (!isCount(term) || !jobs || typeof jobs !== 'object' || Array.isArray(jobs)) return undefined;
  const entries: Record<string, LedgerEntry> = {};
  for (const [job, value] of Object.entries(jobs)) {
    const entry = decodeEntry(value);
    if (entry && job) entries[job] = entry;
  }
  return { term, jobs: entries };
}

const STATES: readonly FireState[] = ['claimed', 'done', 'interrupted'];

function decodeEntry(value: unknown): LedgerEntry | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { at, term, state, zone, period } = value as Record<string, unknown>;
  if (!isCount(at) || !isCount(term) || !isCount(period) || period === 0) return undefined;
  if (typeof state !== 'string' || !STATES.includes(state as FireState)) return undefined;
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return undefined;
  return { at, term, state: state as FireState, zone, period };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Whether `entry` is old enough to drop at wall time `now`: not claimed for max(7 days, 10 of its
 * periods). No replica can know that no other one defines the job any more (during a rollout old
 * replicas still do), so entries of jobs this replica does not define are kept until then too.
 */
export function isStale(entry: LedgerEntry, now: number): boolean {
  return now - entry.at > Math.max(LEDGER_RETENTION, 10 * entry.period);
}
