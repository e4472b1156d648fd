// What an HA run measures per fault beside the usual figures: the leaderless time of both
// elections (ours and client-go's, the same measure), their Lease requests from both API servers'
// audit logs merged, and the etcd leader changes seen meanwhile (a change during a fault that does
// not touch etcd is the loaded machine's, not the fault's).
import { readMergedAuditEvents } from '../../control-plane/audit.js';
import { leaderChangesBetween } from '../../control-plane/ha/etcd-members.js';
import type { ChaosRun } from './chaos-run.js';
import { CLIENT_GO_LEASE } from './client-go-peers.js';
import { longestLeaderless, replicaSpans } from './leaderless.js';

export interface HaFaultFigures {
  /** Longest time in the window when no process of the election believed it led, ms. */
  leaderlessMs: { ours: number; clientGo: number };
  /** Lease requests of each election in the window, from both servers' audit logs. */
  requests: { ours: number; clientGo: number };
  /** Etcd leader changes seen during the window (the most any member that stayed up saw). */
  etcdLeaderChanges: number;
  /** Watch requests of ours answered 504 (a resume past the server's cache: retried). */
  watch504s: number;
  /** client-go candidates that exited on losing leadership and were started again. */
  clientGoRestarts: number;
}

export interface HaFaultSnapshot {
  leaderChanges: Array<number | null>;
  clientGoRestarts: number;
}

export async function snapshotBeforeFault(run: ChaosRun): Promise<HaFaultSnapshot | undefined> {
  if (!run.ha) return undefined;
  return {
    leaderChanges: await run.ha.leaderChangesSeen(),
    clientGoRestarts: run.clientGo?.restarts ?? 0,
  };
}

/** Until client-go's election has a leader again (it may recover later than ours). */
export async function waitForClientGoLeader(run: ChaosRun): Promise<string | undefined> {
  if (!run.clientGo) return undefined;
  return (await run.clientGo.waitForLeader(90_000)) === undefined
    ? "client-go's candidates did not elect a leader within 90 s"
    : undefined;
}

/** Counts a Lease's requests: its own name, or a watch's field selector naming it. */
function namesLease(requestURI: string, name: string | undefined, lease: string): boolean {
  if (name !== undefined) return name === lease;
  return new RegExp(`metadata\\.name(%3D|=)${lease}(&|$)`).test(requestURI);
}

export async function measureHaFault(
  run: ChaosRun,
  before: HaFaultSnapshot,
  from: number,
  to: number,
): Promise<HaFaultFigures> {
  const ha = run.ha!;
  const after = await ha.leaderChangesSeen();
  const events = readMergedAuditEvents(
    ha.ha.servers.map((s) => s.auditLog),
    { namespace: run.namespace, since: new Date(from) },
  ).filter((e) => Date.parse(e.requestReceivedTimestamp) <= to);
  const of = (lease: string) =>
    events.filter((e) => namesLease(e.requestURI, e.objectRef?.name, lease));
  const ours = of(run.lease);
  return {
    leaderlessMs: {
      ours: longestLeaderless(replicaSpans(run.events), from, to),
      clientGo: run.clientGo ? longestLeaderless(run.clientGo.spans(), from, to) : 0,
    },
    requests: { ours: ours.length, clientGo: of(CLIENT_GO_LEASE).length },
    etcdLeaderChanges: leaderChangesBetween(before.leaderChanges, after),
    watch504s: ours.filter((e) => e.verb === 'watch' && e.responseStatus?.code === 504).length,
    clientGoRestarts: (run.clientGo?.restarts ?? 0) - before.clientGoRestarts,
  };
}
