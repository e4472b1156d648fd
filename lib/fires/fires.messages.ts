import type { FireOutcome } from '../core/fires/once-job.js';

// Messages of `once` jobs: bootstrap errors and one log line per fire outcome.

export const ONCE_NOT_ON_CRON = (target: string, key: string, found: string | undefined) =>
  `@LeaderOnly({ once: true }) on ${target}.${key}: once applies only to @Cron methods ` +
  `(found ${found ?? 'no @Cron'}): a fire is a scheduled instant of a cron expression. ` +
  `Remove once, or schedule the method with @Cron.`;

export const ONCE_ON_HANDLER = (target: string, key: string) =>
  `@LeaderOnly({ once: true }) on ${target}.${key}: a request handler has no scheduled fires. ` +
  `Remove once (a follower answers 503), or move the work into a @Cron method.`;

export const ONCE_ON_CLASS = (target: string) =>
  `@LeaderOnly({ once: true }) on the class ${target}: once applies to @Cron methods, one by one. ` +
  `Put it on each @Cron method instead.`;

export const ONCE_NEEDS_SCHEDULE =
  '@LeaderOnly({ once: true }) needs @nestjs/schedule, installed where the app finds it (from its ' +
  'main script or working directory): its cron library computes the fires.';

export const ONCE_WITH_CONFIRM =
  '@LeaderOnly({ once: true, confirm: true }): once already claims each fire with a renew of ' +
  'the Lease (a confirmation); remove confirm.';

export const ONCE_ONLY_OPTION = (option: string) =>
  `@LeaderOnly({ ${option} }): only with once: true (it says how a once job catches up).`;

export const CATCH_UP_POLICY = (value: unknown) =>
  `@LeaderOnly({ catchUp }): must be 'latest', 'all' or 'none' (got ${JSON.stringify(value)}).`;

export const CATCH_UP_WINDOW = (value: unknown, max: number) =>
  `@LeaderOnly({ catchUpWindow }): must be a whole number of ms from 0 to ${max} (7 days) ` +
  `(got ${JSON.stringify(value)}).`;

export const RERUN_INTERRUPTED = (value: unknown) =>
  `@LeaderOnly({ rerunInterrupted }): must be a boolean (got ${JSON.stringify(value)}).`;

export const LEDGER_TOO_SMALL = (election: string, jobs: number, bytes: number, limit: number) =>
  `election "${election}": ${jobs} once jobs need up to ${bytes} bytes of ledger in the Lease, ` +
  `over its ${limit}-byte limit. Spread them over shares (the module's shares option) or shorten ` +
  `their job names.`;

/** The log line of an outcome, and its level. */
export function outcomeLine(outcome: FireOutcome): {
  level: 'debug' | 'log' | 'warn';
  text: string;
} {
  const fire = `${outcome.job} fire of ${outcome.scheduledAt.toISOString()} (election "${outcome.election}")`;
  switch (outcome.result) {
    case 'ran':
      return { level: 'debug', text: `${fire}: claimed and ran` };
    case 'already-ran':
      return { level: 'debug', text: `${fire}: already claimed in the Lease, not run here` };
    case 'caught-up':
      return { level: 'log', text: `${fire}: fell due while nobody ran it; caught up now` };
    case 'coalesced':
      return {
        level: 'log',
        text: `${fire}: missed while nobody ran it; a later fire runs in its place`,
      };
    case 'interrupted':
      return {
        level: 'warn',
        text: `${fire}: claimed by a leader that stopped before recording its end; it may have run partly`,
      };
    case 'missed':
      return { level: 'warn', text: `${fire}: not run: ${missedReason(outcome.reason)}` };
  }
}

function missedReason(reason: string | undefined): string {
  if (reason?.startsWith('zone-differs:')) {
    const recorded = reason.slice('zone-differs:'.length);
    return (
      `the Lease records this job in zone "${recorded}" and this replica evaluates it in its ` +
      `process's zone, another: set @Cron's timeZone on every replica`
    );
  }
  if (reason === 'ledger-full') return 'the ledger in the Lease is full (32 KiB)';
  return 'outside the catch-up window, past the catch-up bound, or catchUp is none';
}
