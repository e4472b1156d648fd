// The sample's log lines that the demo (scripts/demo/demo.ts) follows, in one place: the demo
// recognizes them from these functions instead of from copies of their text.

/** Logger context of the default election's changes: lines read `[LeaderChange] ...`. */
export const LEADER_CHANGE_CONTEXT = 'LeaderChange';

/** Logger context of the `reports` election's changes, one per share. */
export const REPORT_SHARES_CONTEXT = 'ReportShares';

export const LEADS = (identity: string, lease: string, fencingToken: unknown) =>
  `${identity} is now the leader of ${lease} (fencing token ${String(fencingToken)})`;

export const FOLLOWS = (identity: string, lease: string, leader: string | null) =>
  `${identity} follows; leader of ${lease}: ${leader ?? 'none'}`;

export const DOES_NOT_LEAD = (identity: string, lease: string, reason: string) =>
  `${identity} does not lead ${lease} (${reason})`;

export const RUNS_SHARE = (
  identity: string,
  share: unknown,
  lease: string,
  fencingToken: unknown,
) => `${identity} runs share ${String(share)} (${lease}, fencing token ${String(fencingToken)})`;

export const DOES_NOT_RUN_SHARE = (
  identity: string,
  share: unknown,
  lease: string,
  reason: string,
) => `${identity} does not run share ${String(share)} (${lease}, ${reason})`;

/** Logger context of the reconcile job (reconcile.job.ts). */
export const RECONCILE_CONTEXT = 'ReconcileJob';

/** The reconcile job's line: its run count in this process, and the term's fencing token. */
export const RECONCILED = (runs: number, fencingToken: unknown) =>
  `reconcile #${runs} (fencing token ${String(fencingToken)})`;
