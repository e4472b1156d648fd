import { NOT_A_FENCING_TOKEN, RESOURCE_VERSION_NOT_DECIMAL } from './elector.messages.js';
import { LeaderElectionError, LockRejectedError } from './errors.js';

/** A resourceVersion or token that compares as a number: decimal digits only. */
const DECIMAL = /^[0-9]+$/;

/**
 * A fencing token: the `resourceVersion` of the write that acquired leadership, compared as a
 * decimal number of any length. Pass it to downstream systems with each write; they store the
 * highest token seen and refuse lower ones, so an old leader that was paused in the middle of its
 * work cannot overwrite a newer leader's writes.
 *
 * Every write to the API server gets a higher resourceVersion than every earlier write of the same
 * resource type (etcd's revision is global), so tokens increase across terms, Lease deletions and
 * re-creations, and scale-to-zero. Clients may compare resourceVersions this way on API servers
 * that are conformant with Kubernetes 1.35 (KEP-5504). Not after an etcd snapshot restore without a
 * revision bump, which moves revisions back.
 *
 * Compare with {@link FencingToken.compare}, {@link FencingToken.isNewerThan} or
 * {@link FencingToken.toBigInt}; `toString()` and `JSON.stringify()` give the decimal string.
 *
 * @example
 * ```ts
 * const token = leader.fencingToken();
 * await db.query('UPDATE invoices SET ... WHERE fence <= $1', [token.toString()]); // a NUMERIC column
 * ```
 */
export class FencingToken {
  private constructor(private readonly digits: string) {}

  /** Reads a token from its decimal form (e.g. a stored `toString()`); throws on anything else. */
  static parse(value: string): FencingToken {
    if (typeof value !== 'string' || !DECIMAL.test(value)) {
      throw new LeaderElectionError(NOT_A_FENCING_TOKEN(String(value)));
    }
    return new FencingToken(value.replace(/^0+(?=.)/, ''));
  }

  /** -1, 0 or 1 as `a` is lower than, equal to or higher than `b`; for `Array.sort` too. */
  static compare(a: FencingToken, b: FencingToken): -1 | 0 | 1 {
    if (a.digits.length !== b.digits.length) return a.digits.length < b.digits.length ? -1 : 1;
    if (a.digits === b.digits) return 0;
    return a.digits < b.digits ? -1 : 1;
  }

  /** Whether this token is higher than `other`: it belongs to a later term. */
  isNewerThan(other: FencingToken): boolean {
    return FencingToken.compare(this, other) > 0;
  }

  /** Whether both tokens are the same. */
  equals(other: FencingToken): boolean {
    return this.digits === other.digits;
  }

  /** The token as a bigint. */
  toBigInt(): bigint {
    return BigInt(this.digits);
  }

  /** The decimal form. */
  toString(): string {
    return this.digits;
  }

  /** The decimal form, so that events and health output serialize as strings. */
  toJSON(): string {
    return this.digits;
  }
}

/**
 * Whether `record` was written after `than` (decimal resourceVersions of one resource type compare
 * by value); true when either cannot be compared, so that a caller errs towards reacting.
 */
export function isNewerVersion(
  record: { readonly resourceVersion: string },
  than: { readonly resourceVersion: string },
): boolean {
  if (!DECIMAL.test(record.resourceVersion) || !DECIMAL.test(than.resourceVersion)) return true;
  const a = FencingToken.parse(record.resourceVersion);
  return a.isNewerThan(FencingToken.parse(than.resourceVersion));
}

/**
 * The token of a term acquired by `written`. A lock whose resourceVersions are not decimal numbers
 * (an API server that is not conformant with Kubernetes 1.35) cannot give fencing tokens: rejected,
 * so that nobody leads with a token that does not compare.
 */
export function fencingTokenOf(written: { readonly resourceVersion: string }): FencingToken {
  try {
    return FencingToken.parse(written.resourceVersion);
  } catch {
    throw new LockRejectedError(RESOURCE_VERSION_NOT_DECIMAL(written.resourceVersion));
  }
}
