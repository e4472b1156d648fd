import type { Clock } from '../clock.js';
import type { FencingToken } from '../fencing-token.js';
import type { LeaseRecord, LeaseSpec } from '../lease-record.js';
import {
  isStale,
  LEDGER_SIZE_LIMIT,
  ledgerSize,
  type FireLedger,
  type FireState,
  type LedgerEntry,
} from './fire-ledger.js';

/**
 * How long a claim waits for others before its write starts, ms: `@Cron` jobs due at the same
 * instant tick one after another (one timer each), and are claimed in one write.
 */
export const CLAIM_BATCH_WINDOW = 5;

/** A fire to claim. */
export interface FireClaimRequest {
  /** The job's name. */
  readonly job: string;
  /** Its scheduled instant, ms since the epoch (UTC). */
  readonly at: number;
  /** The zone its schedule is evaluated in (see `LedgerEntry.zone`). */
  readonly zone: string;
  /** Whether the job names its zone (`timeZone`/`utcOffset`): it then replaces another recorded zone. */
  readonly explicitZone: boolean;
  /** The job's period, ms (for pruning). */
  readonly period: number;
  /** Claim again a fire the ledger shows interrupted (`rerunInterrupted`). */
  readonly rerun?: boolean;
}

/** What became of a claim. */
export type FireClaimAnswer =
  /** Claimed by this replica's current term: run it (under `signal`, with `fencingToken`). */
  | {
      readonly result: 'claimed';
      readonly term: number;
      readonly fencingToken: FencingToken;
      readonly signal: AbortSignal;
    }
  /** The ledger already has this fire or a later one: it ran (or runs) elsewhere, or earlier. */
  | { readonly result: 'already-claimed'; readonly entry: LedgerEntry }
  /** This replica does not lead (any more), or stopped leading before the claim was known to land. */
  | { readonly result: 'not-leading' }
  /** The ledger records the job with another zone, and this replica's zone is the process's. */
  | { readonly result: 'zone-differs'; readonly recorded: string }
  /** The ledger would exceed its size limit with this job's entry. */
  | { readonly result: 'ledger-full' };

/** What {@link FireClaims} needs of its elector. */
export interface ClaimHost {
  readonly identity: string;
  readonly clock: Clock;
  /** The term we lead in right now, or null. */
  leadingTerm(): {
    readonly term: number;
    readonly fencingToken: FencingToken;
    readonly controller: AbortController;
  } | null;
  /** Runs an attempt (a renew while leading) now, or right after the running one. */
  requestAttempt(): void;
  /** The last record this process saw of the Lease (its own write while leading). */
  lastRecord(): LeaseRecord | null | undefined;
}

interface PendingClaim {
  readonly request: FireClaimRequest;
  readonly term: number;
  readonly resolve: (answer: FireClaimAnswer) => void;
  /** Set once a write carried it: its entry in a record we read then proves whose claim it is. */
  sent: boolean;
}

/** An end to record in the next write. */
interface PendingEnd {
  readonly job: string;
  readonly at: number;
  readonly state: Exclude<FireState, 'claimed'>;
}

/**
 * The claims of `once` jobs' fires on one elector's Lease. A claim is carried by the next write of
 * the Lease that renews our term (started at most {@link CLAIM_BATCH_WINDOW} later); it is claimed
 * when that write succeeds. Every write of ours carries the ledger of the record it is based on,
 * with our claims and recorded ends added, so no write of ours loses another replica's entries.
 */
export class FireClaims {
  private pending: PendingClaim[] = [];
  private ends: PendingEnd[] = [];
  private batchTimer = false;
  /** The last acquiring write's term, and whether the holder before it kept the ledger. */
  private acquired: { readonly term: number; readonly kept: boolean } | undefined;

  constructor(private readonly host: ClaimHost) {}

  /** The ledger as last seen: our own write's while leading, else the watched record's. */
  ledger(): FireLedger | undefined {
    return this.host.lastRecord()?.fires ?? undefined;
  }

  /**
   * Claims fires (several jobs' at once go in one write). Resolves each request's answer; never
   * rejects. Only a leader claims: a follower's request answers `not-leading` at once.
   */
  claim(requests: readonly FireClaimRequest[]): Promise<FireClaimAnswer[]> {
    const term = this.host.leadingTerm();
    if (!term) return Promise.resolve(requests.map(() => ({ result: 'not-leading' as const })));
    const signal = term.controller.signal;
    const answers = requests.map(
      (request) =>
        new Promise<FireClaimAnswer>((resolve) => {
          // A term that ends answers every claim it still has: never left waiting.
          const onEnd = () => this.settle(claim, { result: 'not-leading' });
          const claim: PendingClaim = {
            request,
            term: term.term,
            sent: false,
            resolve: (answer) => {
              signal.removeEventListener('abort', onEnd);
              resolve(answer);
            },
          };
          this.pending.push(claim);
          if (signal.aborted) onEnd();
          else signal.addEventListener('abort', onEnd);
        }),
    );
    if (!this.batchTimer) {
      this.batchTimer = true;
      this.host.clock.setTimeout(() => {
        this.batchTimer = false;
        if (this.pending.some((claim) => !claim.sent)) this.host.requestAttempt();
      }, CLAIM_BATCH_WINDOW);
    }
    return Promise.all(answers);
  }

  /**
   * Records how a claimed fire's run ended, with the next write (a renew or a claim): a replica that
   * stops before that write leaves the fire `claimed`, which the next leader reports as interrupted.
   */
  recordEnd(job: string, at: number, state: Exclude<FireState, 'claimed'>): void {
    this.ends = this.ends.filter((end) => end.job !== job || end.at !== at);
    this.ends.push({ job, at, state });
  }

  /**
   * Whether the holder before term `term` kept the ledger (its last write carried it): only then do
   * the ledger's entries say which fires ran before this term.
   */
  keptBefore(term: number): boolean {
    return this.acquired?.term === term ? this.acquired.kept : true;
  }

  /** Whether ends wait for a write (shutdown writes them with its release). */
  get hasUnwrittenEnds(): boolean {
    return this.ends.length > 0;
  }

  /**
   * The ledger a write based on `basis` carries, and the claims it carries for the first time. Our
   * claims go only into writes that renew our term (`renews`); every write keeps the basis's entries
   * (our recorded ends applied, stale entries pruned). Undefined when there is nothing to write.
   */
  forWrite(basis: LeaseRecord | null, spec: LeaseSpec, renews: boolean): FireLedger | undefined {
    const base = basis?.fires ?? (renews ? this.ledger() : undefined);
    if (!renews && spec.holderIdentity === this.host.identity) {
      // Acquiring: the holder before us kept the ledger if its last write stamped it.
      const kept = !!basis?.fires && basis.fires.term === (basis.leaseTransitions ?? 0);
      this.acquired = { term: spec.leaseTransitions, kept };
    }
    const jobs: Record<string, LedgerEntry> = {};
    const now = this.host.clock.wallNow().getTime();
    for (const [job, entry] of Object.entries(base?.jobs ?? {})) {
      if (!isStale(entry, now)) jobs[job] = entry;
    }
    this.applyEnds(jobs);
    if (renews) this.addClaims(jobs, spec.leaseTransitions);
    if (Object.keys(jobs).length === 0 && !base) return undefined;
    return { term: spec.leaseTransitions, jobs };
  }

  /** A write carrying `ledger` succeeded: the claims it carries are ours. */
  written(ledger: FireLedger | undefined | null): void {
    const term = this.host.leadingTerm();
    for (const claim of [...this.pending]) {
      if (!claim.sent) continue;
      const entry = ledger?.jobs[claim.request.job];
      if (!term || term.term !== claim.term) {
        this.settle(claim, { result: 'not-leading' });
      } else if (entry && entry.at === claim.request.at && entry.term === claim.term) {
        this.settle(claim, {
          result: 'claimed',
          term: term.term,
          fencingToken: term.fencingToken,
          signal: term.controller.signal,
        });
      }
    }
    // Ends once written stay in the record: drop those the ledger now shows.
    this.ends = this.ends.filter((end) => ledger?.jobs[end.job]?.state !== end.state);
  }

  private applyEnds(jobs: Record<string, LedgerEntry>): void {
    this.ends = this.ends.filter((end) => {
      const entry = jobs[end.job];
      if (!entry || entry.at !== end.at) return false; // moved on, or pruned: nothing to record
      jobs[end.job] = { ...entry, state: end.state };
      return true;
    });
  }

  private addClaims(jobs: Record<string, LedgerEntry>, term: number): void {
    for (const claim of [...this.pending]) {
      if (claim.term !== term) continue;
      const { job, at, zone, explicitZone, period, rerun } = claim.request;
      const entry = jobs[job];
      // Carried by a write of ours whose answer was lost, and landed: this write renews it.
      if (claim.sent && entry && entry.at === at && entry.term === term) continue;
      if (
        entry &&
        (entry.at > at || (entry.at === at && !(rerun && entry.state === 'interrupted')))
      ) {
        this.settle(claim, { result: 'already-claimed', entry });
        continue;
      }
      if (entry && entry.zone !== zone && !explicitZone) {
        this.settle(claim, { result: 'zone-differs', recorded: entry.zone });
        continue;
      }
      const claimed: LedgerEntry = { at, term, state: 'claimed', zone, period };
      if (ledgerSize({ term, jobs: { ...jobs, [job]: claimed } }) > LEDGER_SIZE_LIMIT) {
        this.settle(claim, { result: 'ledger-full' });
        continue;
      }
      jobs[job] = claimed;
      claim.sent = true;
    }
  }

  private settle(claim: PendingClaim, answer: FireClaimAnswer): void {
    const index = this.pending.indexOf(claim);
    if (index < 0) return;
    this.pending.splice(index, 1);
    claim.resolve(answer);
  }
}
