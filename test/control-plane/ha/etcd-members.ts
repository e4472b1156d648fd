// The etcd cluster of the HA shape as the harness sees it: each member's health, which member
// leads (etcd's maintenance status through its JSON gateway), and how many leader changes each
// member has seen (its /metrics), so that elections nobody injected are counted, not blamed on a fault.
import { request } from 'node:http';
import { probe } from '../health.js';
import type { EtcdMember } from './ha-state.js';

function post(port: number, path: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = request(
      { host: '127.0.0.1', port, method: 'POST', path, agent: false, timeout: 2_000 },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(JSON.parse(text))
            : reject(new Error(`etcd ${path} answered ${response.statusCode}`)),
        );
      },
    );
    call.on('timeout', () => call.destroy(new Error(`etcd ${path} timed out`)));
    call.on('error', reject);
    call.end(JSON.stringify(body));
  });
}

/** True if the member answers `/health` with health "true" (it has a leader and quorum). */
export async function memberHealthy(member: EtcdMember): Promise<boolean> {
  try {
    const { status, body } = await probe(`http://127.0.0.1:${member.clientPort}/health`);
    return status === 200 && body.includes('"true"');
  } catch {
    return false;
  }
}

/** The index of the member that leads, as the members that answer say; undefined if none knows. */
export async function etcdLeader(members: EtcdMember[]): Promise<number | undefined> {
  const answers = await Promise.all(
    members.map(async (member) => {
      try {
        const status = (await post(member.clientPort, '/v3/maintenance/status', {})) as {
          header?: { member_id?: string };
          leader?: string;
        };
        return { id: status.header?.member_id, leader: status.leader };
      } catch {
        return undefined;
      }
    }),
  );
  const leaderId = answers.find((a) => a?.leader && a.leader !== '0')?.leader;
  if (!leaderId) return undefined;
  const index = answers.findIndex((a) => a?.id === leaderId);
  return index >= 0 ? index : undefined;
}

/**
 * Each member's `etcd_server_leader_changes_seen_total` (null for a member that does not answer).
 * The counter starts again at a member's restart.
 */
export async function leaderChangesSeen(members: EtcdMember[]): Promise<Array<number | null>> {
  return Promise.all(
    members.map(async (member) => {
      try {
        const { status, body } = await probe(`http://127.0.0.1:${member.clientPort}/metrics`);
        if (status !== 200) return null;
        const line = body
          .split('\n')
          .find((l) => l.startsWith('etcd_server_leader_changes_seen_total'));
        return line ? Number(line.split(' ').pop()) : null;
      } catch {
        return null;
      }
    }),
  );
}

/**
 * Leader changes between two readings of {@link leaderChangesSeen}: the most any member that
 * answered both times (and was not restarted, so its counter did not fall) saw.
 */
export function leaderChangesBetween(
  before: Array<number | null>,
  after: Array<number | null>,
): number {
  let most = 0;
  before.forEach((b, i) => {
    const a = after[i];
    if (b !== null && a !== null && a >= b) most = Math.max(most, a - b);
  });
  return most;
}
