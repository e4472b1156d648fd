import { createHash } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';

/** The most shares one election may spread over: each is a Lease with its own renewals. */
export const MAX_SHARES = 64;

/** Longest Lease name: a DNS-1123 subdomain. */
const MAX_LEASE_NAME = 253;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `value` is a valid Lease name: a DNS-1123 subdomain of at most 253 characters. */
export function isDnsSubdomain(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_LEASE_NAME &&
    DNS_1123_SUBDOMAIN.test(value)
  );
}

/** Checks the `shares` option: a whole number from 1 to {@link MAX_SHARES}. */
export function assertShareCount(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SHARES) {
    throw new InvalidOptionError(
      option,
      `must be a whole number from 1 to ${MAX_SHARES} (each share is a Lease renewed by its leader)`,
      value,
    );
  }
}

/** Name of share `index`'s Lease: the election's Lease name, `-share-`, the index. */
export function shareLeaseName(leaseName: string, index: number): string {
  return `${leaseName}-share-${index}`;
}

/** Name of the membership Lease of an election spread over shares. */
export function membersLeaseName(leaseName: string): string {
  return `${leaseName}-members`;
}

/**
 * Every Lease name an election spread over `shares` uses: the shares' and the membership Lease.
 * Throws an {@link InvalidOptionError} on `option` when one is not a valid Lease name (a DNS-1123
 * subdomain of at most 253 characters).
 */
export function spreadLeaseNames(option: string, leaseName: string, shares: number): string[] {
  const names = [membersLeaseName(leaseName)];
  for (let index = 0; index < shares; index += 1) names.push(shareLeaseName(leaseName, index));
  for (const name of names) {
    if (!isDnsSubdomain(name)) {
      throw new InvalidOptionError(
        option,
        `derives the Lease name "${name}", which is not a DNS-1123 subdomain of at most ` +
          `${MAX_LEASE_NAME} characters: shorten the Lease name`,
        leaseName,
      );
    }
  }
  return names;
}

/** A 48-bit weight of `job` on share `index`, the same in every process and version. */
function weight(job: string, index: number): number {
  return createHash('sha256').update(`${index}\0${job}`).digest().readUIntBE(0, 6);
}

/**
 * The share a job runs on, by rendezvous hashing: the share with the highest weight for the job.
 * Every replica computes the same share without coordination, and when shares are added a job
 * moves only if one of the new shares outweighs its current one (about `added / total` of them);
 * no job moves between the shares that stay.
 */
export function shareOf(job: string, shares: number): number {
  let best = 0;
  let bestWeight = -1;
  for (let index = 0; index < shares; index += 1) {
    const w = weight(job, index);
    if (w > bestWeight) {
      best = index;
      bestWeight = w;
    }
  }
  return best;
}
