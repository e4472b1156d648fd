// The elector's log lines and reasons, in one place (as schedule.messages.ts does for Nest's
// scheduler): each says what happened and what it means for leader-only work.
import { describeError } from './errors.js';
import { printable } from './foreign-text.js';
import type { ExpiredHolder } from './lease-record.js';

export const METRICS_HOOK_THREW = (name: string, hook: string, error: unknown) =>
  `The metrics hook ${hook} of ${name} threw (further errors are ignored; the election is not ` +
  `affected): ${describeError(error)}`;

export const WAITING_FOR_WORK = (name: string, ms: number, count: number) =>
  `Waiting up to ${ms} ms for ${count} leader-only task(s) before releasing ${name}`;

export const WORK_OUTLIVED_GRACE = (name: string, ms: number, count: number) =>
  `${count} leader-only task(s) still running after ${ms} ms; not releasing ${name} so that no ` +
  'other instance starts leader work while they run (the lease expires instead)';

/** Why a term that holds the Lease must wait before it leads. */
export type LeadsLaterCause =
  /** It created a Lease this process never saw. */
  | 'never-seen'
  /** An update re-created a deleted Lease (the API server creates Leases on update). */
  | 'recreated'
  /** It created the Lease after a deletion, and the watch showed another change in between. */
  | 'unconfirmed'
  /** As `unconfirmed`, but the watch has not shown the create yet: it may lead at once then. */
  | 'awaiting-watch';

const LEADS_LATER_CAUSES: Record<LeadsLaterCause, string> = {
  'never-seen': 'it created the Lease, which this process never saw before',
  recreated: 'it acquired it by re-creating a deleted Lease',
  unconfirmed:
    'it created the Lease after a deletion, and its watch showed that someone held the Lease in ' +
    'between (or lost track of it)',
  'awaiting-watch': 'it created the Lease after a deletion, and its watch has not yet shown it',
};

export const RELEASE_SKIPPED = (name: string, identity: string, why: string) =>
  `${identity} is not releasing ${name}: ${why}; it expires one lease duration after the last renew`;

export const TERM_NOT_STARTED =
  'its term had not started (a leader before it may still be running until its renew deadline, ' +
  'and a released Lease is free to every replica at once)';

// Whole milliseconds first: monotonic times are fractional, and (t + 15000) - t can exceed 15000
// by a rounding error, which would read 16 s.
export const LEADS_LATER = (identity: string, name: string, ms: number, cause: LeadsLaterCause) =>
  `${identity} holds ${name} and leads in ${Math.ceil(Math.round(ms) / 1000)} s: ` +
  LEADS_LATER_CAUSES[cause] +
  ', and a leader it may have had could still be running until its renew deadline';

/** `lease`: the lock's description, e.g. `lease my-namespace/billing`. */
export const BECAME_LEADER = (
  identity: string,
  lease: string,
  term: { readonly term: number; readonly fencingToken: unknown },
  expired?: ExpiredHolder,
) =>
  `${identity} became leader of ${lease} (term ${term.term}, fencing token ${term.fencingToken})` +
  (expired
    ? `, taking over from ${printable(expired.holder)}, whose Lease expired: not renewed` +
      (expired.leaseDurationSeconds ? ` for ${expired.leaseDurationSeconds} s` : '') +
      ' (crashed, or cut off from the API server)'
    : '');

export const RECORD_EDITED = (name: string, identity: string, seconds: unknown) =>
  `${name} was edited by someone else (leaseDurationSeconds ${String(seconds)}); ${identity} ` +
  'leads at most until that expires, and renews now';

export const NO_RENEW_WITHIN_DEADLINE = (renewDeadline: number) =>
  `no successful renew within renewDeadline (${renewDeadline} ms)`;

export const IDENTITY_OF_PREVIOUS_RUN = (name: string, identity: string) =>
  `${name} names this instance's identity "${identity}", but this process never wrote it: a ` +
  'previous run with the same identity held it. Waiting for it to expire.';

export const IDENTITY_IN_USE = (name: string, identity: string) =>
  `Another process holds ${name} with this instance's identity "${identity}": two replicas share ` +
  'one identity and would both lead. This instance does not lead while the other renews. Give ' +
  'each replica a unique identity (the default, POD_NAME or HOSTNAME plus a random suffix, is ' +
  'unique).';

// Lock requests (lock-requests.ts): errors are logged once per kind, repeats at debug level.

export const REQUEST_TIMED_OUT = (lease: string, ms: number) =>
  `request to ${lease} timed out after ${ms} ms`;

export const REQUEST_FAILED = (context: string, name: string, identity: string, error: unknown) =>
  `Error ${context} ${name} as ${identity}: ${describeError(error)}`;

export const REQUEST_FAILED_AGAIN = (context: string, name: string, error: unknown) =>
  `${context} ${name} failed again: ${describeError(error)}`;

export const REQUESTS_SUCCEED_AGAIN = (name: string) => `${name}: API requests succeed again`;

// The Lease watch (lease-watch.ts).

export const WATCH_NOT_OPENED = (ms: number) => `watch did not open within ${ms} ms`;

export const WATCH_SILENT = (seconds: number) => `watch silent for ${seconds} s`;
export const WATCH_STALE = (delivered: string, known: string, ms: number) =>
  `watch stale: it delivered nothing past resourceVersion ${delivered} for ${ms} ms while ${known} was known`;

export const WATCH_FAILED = (name: string, error: unknown) =>
  `Watch on ${name} failed (${describeError(error)}); re-watching`;

export const BEFORE_RELEASE_FAILED = (name: string, error: unknown) =>
  `A before-release hook of ${name} failed (releasing anyway): ${describeError(error)}`;

export const BEFORE_RELEASE_TIMED_OUT = (name: string, timeoutMs: number) =>
  `A before-release hook of ${name} took longer than ${timeoutMs} ms (the request timeout): releasing anyway`;

export const LISTENER_THREW = (name: string, error: unknown) =>
  `A leader change listener of ${name} threw: ${describeError(error)}`;

export const IDENTITY_STILL_ELSEWHERE = (name: string, identity: string) =>
  `${name} still names "${identity}" from another process`;

// Releasing the Lease (release.ts).

export const NOTHING_TO_RELEASE = (name: string, identity: string) =>
  `${name} no longer names ${identity}; nothing to release`;

export const RELEASED = (identity: string, name: string) => `${identity} released ${name}`;

export const RELEASED_TO_CANDIDATE = (
  identity: string,
  name: string,
  successor: string,
  revision: string,
  newer: boolean,
) =>
  `${identity} released ${name}, naming ${successor} (revision ${revision}, ` +
  (newer ? 'the newest replica of another revision' : 'the standby') +
  ') as its successor';

export const ANNOUNCED = (identity: string, name: string, revision: string, holder: string) =>
  `${identity} (revision ${revision}) announced itself on ${name} as a successor of ${holder}`;

export const ANNOUNCED_STANDBY = (
  identity: string,
  name: string,
  revision: string,
  holder: string,
) =>
  `${identity} (revision ${revision}) announced itself on ${name} as the standby successor of ` +
  holder;

export const WITHDRAWN = (identity: string, name: string) =>
  `${identity} took itself off the successor candidates on ${name} as it stops`;

export const WITHDRAW_FAILED = (identity: string, name: string, error: unknown) =>
  `${identity} could not take itself off the successor candidates on ${name}: ${describeError(error)}`;

export const ANNOUNCE_FAILED = (identity: string, name: string, error: unknown) =>
  `${identity} could not announce itself on ${name}: ${describeError(error)}`;

export const RELEASE_FAILED = (name: string, error: unknown) =>
  `Could not release ${name}: ${describeError(error)}. Followers take over when it expires.`;

export const RELEASE_CONFLICTS = (name: string, conflicts: number) =>
  `Could not release ${name} after ${conflicts} conflicts; it will expire instead`;

// Fencing tokens (fencing-token.ts): a value is quoted, at most 40 characters of it.

const quoted = (value: string) => JSON.stringify(value).slice(0, 40);

export const NOT_A_FENCING_TOKEN = (value: string) =>
  `a fencing token is a decimal number, got ${quoted(value)}`;

export const RESOURCE_VERSION_NOT_DECIMAL = (resourceVersion: string) =>
  `the API server's resourceVersion ${quoted(resourceVersion)} ` +
  'is not a decimal number, so it cannot serve as a fencing token: nestjs-kube-leader needs ' +
  'an API server that is conformant with Kubernetes 1.35 (KEP-5504)';

// The term's end, as the leadership signal's reason and the log line.
export const LOST = (identity: string, name: string, reason: string) =>
  `${identity} lost ${name}: ${reason}`;
export const STOPPED_LEADING = (identity: string, name: string, reason: string) =>
  `${identity} stopped leading ${name}: ${reason}`;
export const STEPPED_DOWN = (identity: string) => `${identity} stepped down`;
export const STEPPING_DOWN = (identity: string) => `${identity} is stepping down`;
export const SHUTTING_DOWN = (identity: string) => `${identity} is shutting down`;
export const DOES_NOT_LEAD = (identity: string, name: string) =>
  `${identity} does not lead ${name}`;
export const WRITES_UNDER_OUR_IDENTITY = (identity: string) =>
  `another process writes the lease as "${identity}"`;

// The elector's lifecycle.
export const CAMPAIGNING_FOR = (identity: string, name: string) =>
  `${identity} campaigning for ${name}`;
export const ALREADY_STARTED = (name: string) =>
  `the elector for ${name} was already started (an elector starts once)`;
export const ELECTOR_IS_STOPPED = (name: string) => `the elector for ${name} is stopped`;
export const ELECTOR_STOPPED = (name: string) => `the elector for ${name} stopped`;
export const WORK_STILL_RUNNING = (count: number) => `${count} leader-only task(s) still run`;
export const CLOSING_LOCK_FAILED = (lock: string, error: unknown) =>
  `Closing ${lock} failed: ${describeError(error)}`;
