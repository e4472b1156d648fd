// The rolling-update driver shared by the bench, the chaos suite and the demo: the order of its
// steps and its choice of the replica to stop.
import { rollingUpdate } from '../support/rolling-update.js';

/** Replicas by name; `leader` moves to the new replica that follows when the old leader stops. */
function cluster(old: string[], leader: string) {
  const calls: string[] = [];
  const state = { leader, started: 0 };
  const plan = {
    old,
    readyMs: 0,
    start: (step: number) => {
      calls.push(`start ${step}`);
      return `new-${state.started++}`;
    },
    follows: async (fresh: string) => {
      calls.push(`${fresh} follows ${state.leader}`);
      return state.leader;
    },
    stop: async (victim: string) => {
      calls.push(`stop ${victim}`);
      if (victim === state.leader) state.leader = `new-${state.started - 1}`;
    },
  };
  return { calls, plan };
}

describe('rollingUpdate', () => {
  it('stops the old leader first, then the other old replicas in order, each after a new one follows', async () => {
    const { calls, plan } = cluster(['a', 'b', 'c'], 'b');
    const steps = await rollingUpdate(plan);
    expect(calls).toEqual([
      'start 0',
      'new-0 follows b',
      'stop b',
      'start 1',
      'new-1 follows new-0',
      'stop a',
      'start 2',
      'new-2 follows new-0',
      'stop c',
    ]);
    expect(steps.map((s) => [s.fresh, s.victim, s.victimWasLeader])).toEqual([
      ['new-0', 'b', true],
      ['new-1', 'a', false],
      ['new-2', 'c', false],
    ]);
  });

  it('stops the first old replica when the leader is none of the old ones', async () => {
    const { plan } = cluster(['a', 'b'], 'elsewhere');
    const steps = await rollingUpdate(plan);
    expect(steps.map((s) => [s.victim, s.victimWasLeader])).toEqual([
      ['a', false],
      ['b', false],
    ]);
  });
});
