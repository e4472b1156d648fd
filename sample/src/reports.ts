// The sample's second election, `reports`: its jobs (reports.jobs.ts) are spread over shares, each
// share a Lease with its own leader, so every replica runs some of them. Plain constants, without
// Nest, so that the tests and the demo can read them too.

/** The election's name, as `@LeaderOnly({ election })` and `LeaderService` name it. */
export const REPORTS = 'reports';

/** How many shares (Leases) the report jobs are spread over: about two per replica. */
export const REPORTS_SHARES = 6;

/**
 * The election's Lease name, from the app's (`LEASE_NAME`): its Leases are `<this>-members` and
 * `<this>-share-0` to `<this>-share-5`, which k8s/rbac.yaml names (`sample-app-reports-...`).
 */
export function reportsLeaseName(leaseName: string): string {
  return `${leaseName}-reports`;
}
