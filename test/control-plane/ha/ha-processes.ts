// The processes of the HA shape as state.json records them: which still run, and stopping them all
// by PID (the API servers first, then the balancer, then the etcd members), each only while its PID
// still runs the recorded binary. Kept apart from ha-control-plane.ts so that control-plane.ts's
// `down` and `status` can use it without importing the start-up code.
import fs from 'node:fs';
import { isProcessOf, stopProcess, waitForReaping, type StopOutcome } from '../processes.js';
import type { ControlPlaneState } from '../state.js';
import type { HaState } from './ha-state.js';

export interface HaProcessEntry {
  name: string;
  pid: number;
  binary: string;
}

/** Every recorded process, in stopping order. */
export function haProcesses(state: ControlPlaneState, ha: HaState): HaProcessEntry[] {
  return [
    ...ha.servers.map((s, i) => ({
      name: `kube-apiserver-${i}`,
      pid: s.pid,
      binary: state.binaries.kubeApiserver,
    })),
    { name: 'balancer', pid: ha.balancer.pid, binary: ha.balancer.script },
    ...ha.members.map((m) => ({ name: m.name, pid: m.pid, binary: state.binaries.etcd })),
  ];
}

/** Each recorded process and whether it still runs its binary. */
export function haLiveness(state: ControlPlaneState, ha: HaState): Record<string, boolean> {
  return Object.fromEntries(
    haProcesses(state, ha).map((p) => [p.name, isProcessOf(p.pid, p.binary)]),
  );
}

/** Stops every recorded process (SIGTERM, then SIGKILL after 10 s) and removes etcd's tmpfs data. */
export async function stopHaProcesses(
  state: ControlPlaneState,
  ha: HaState,
): Promise<Array<{ name: string; pid: number; outcome: StopOutcome }>> {
  const stopped: Array<{ name: string; pid: number; outcome: StopOutcome }> = [];
  const entries = haProcesses(state, ha).filter((p) => p.pid);
  // The two API servers together, then the balancer, then the members together.
  for (const group of ['kube-apiserver', 'balancer', 'etcd']) {
    const members = entries.filter((p) => p.name.startsWith(group));
    const outcomes = await Promise.all(members.map((p) => stopProcess(p.pid, p.binary)));
    members.forEach((p, i) => stopped.push({ name: p.name, pid: p.pid, outcome: outcomes[i] }));
  }
  await Promise.all(stopped.map(({ pid }) => waitForReaping(pid)));
  fs.rmSync(ha.etcdDataRoot, { recursive: true, force: true });
  return stopped;
}
