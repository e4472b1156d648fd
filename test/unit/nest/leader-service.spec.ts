// The `leaderService` option: refused at start-up naming the option and the rule (with `shares`,
// with a custom lock, without this pod's address or name, with a bad Service name); and the keeper
// of the slice on a real elector (fake clock, in-memory Lease): the leader writes itself with its
// term's token after it starts leading, empties the slice before it releases, a follower never
// writes, and a failing write is logged without touching the election.
import { KubeConfig } from '@kubernetes/client-node';
import { InvalidOptionError, type FencingToken } from '../../../lib/core/index.js';
import { OTHERS_FROM } from '../../../lib/core/takeover-delay.js';
import { createElection } from '../../../lib/election.factory.js';
import type { LeaderElectionModuleOptions } from '../../../lib/interfaces/leader-election-options.interface.js';
import type { LeaderEndpoint } from '../../../lib/kubernetes/leader-endpoint-slice.js';
import { keepLeaderSlice } from '../../../lib/leader-service.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { ElectionFixture } from '../support/election-fixture.js';
import { eventually } from '../../support/eventually.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u', namespace: 'apps' }],
    currentContext: 'c',
  });
  return config;
}

describe('the leaderService option', () => {
  const service = {
    name: 'billing-leader',
    port: { name: 'grpc', port: 9000 },
    podIP: '10.244.0.7',
    podName: 'billing-0',
  };
  const base: LeaderElectionModuleOptions = {
    leaseName: 'billing',
    kubeConfig: kubeConfig(),
    identity: 'billing-0',
    logger: false,
  };

  async function refusal(
    options: Partial<LeaderElectionModuleOptions>,
  ): Promise<InvalidOptionError> {
    const error = await createElection({ ...base, ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }

  it.each([
    [{ shares: 4 }, 'leaderService', 'single elections only'],
    [
      { lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a', 'l') },
      'leaderService',
      'custom "lock"',
    ],
    [{ leaderService: { ...service, podIP: undefined } }, 'leaderService.podIP', 'POD_IP'],
    [{ leaderService: { ...service, podIP: 'billing-0' } }, 'leaderService.podIP', 'status.podIP'],
    [{ leaderService: { ...service, podName: undefined } }, 'leaderService.podName', 'POD_NAME'],
    [{ leaderService: { ...service, name: 'Billing' } }, 'leaderService.name', 'DNS-1123 label'],
    [
      { leaderService: { ...service, port: { name: 'grpc', port: 0 } } },
      'leaderService.port.port',
      '1 to 65535',
    ],
    [{ leaderService: { ...service, selector: {} } }, 'leaderService', '{ name, port'],
  ])('refuses option set %# naming %s and the rule ', async (change, option, rule) => {
    const saved = { ip: process.env.POD_IP, name: process.env.POD_NAME };
    delete process.env.POD_IP;
    delete process.env.POD_NAME;
    try {
      const leaderService = 'leaderService' in change ? change.leaderService : service;
      const error = await refusal({
        ...change,
        leaderService,
      } as Partial<LeaderElectionModuleOptions>);
      expect(error.option).toBe(option);
      expect(error.message).toContain(rule);
    } finally {
      if (saved.ip !== undefined) process.env.POD_IP = saved.ip;
      if (saved.name !== undefined) process.env.POD_NAME = saved.name;
    }
  });

  it('is accepted for a single election on the Kubernetes Lease', async () => {
    const election = await createElection({ ...base, leaderService: service });
    expect(election.elector.isLeader()).toBe(false);
    await election.stop();
  });
});

describe('the leader slice keeper', () => {
  const endpoint = (id: string): LeaderEndpoint => ({
    ip: `10.244.0.${id.charCodeAt(0) % 50}`,
    podName: id,
  });
  let f: ElectionFixture;
  let log: string[];

  /** A slice writer that records what it was asked, and when the Lease named whom. */
  function recordingSlice(failWith?: Error) {
    return {
      write: async (leader: LeaderEndpoint, token: FencingToken) => {
        log.push(
          `write ${leader.podName} ${token.toString()} (lease: ${f.store.current()?.holderIdentity})`,
        );
        if (failWith) throw failWith;
        return { addressType: 'IPv4', endpoints: [] };
      },
      clear: async (token: FencingToken) => {
        log.push(`clear ${token.toString()} (lease: ${f.store.current()?.holderIdentity})`);
        return undefined;
      },
    };
  }

  beforeEach(() => {
    f = new ElectionFixture();
    log = [];
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('the leader writes itself, empties before its release, the next leader writes itself', async () => {
    const a = f.candidate('a', T);
    const b = f.candidate('b', T);
    keepLeaderSlice(a.elector, recordingSlice(), endpoint('a'), 'apps/billing', a.logger);
    keepLeaderSlice(b.elector, recordingSlice(), endpoint('b'), 'apps/billing', b.logger);
    a.elector.start();
    await f.clock.flush();
    b.elector.start();
    await f.clock.advance(OTHERS_FROM);
    const tokenA = a.elector.fencingToken()!.toString();
    await a.elector.stepDown({ successor: 'b' });
    await f.advanceChecking(1_000);
    expect(b.elector.isLeader()).toBe(true);
    const tokenB = b.elector.fencingToken()!.toString();
    expect(log).toEqual([
      `write a ${tokenA} (lease: a)`,
      `clear ${tokenA} (lease: a)`,
      `write b ${tokenB} (lease: b)`,
    ]);
    expect(a.logger.at('log')).toEqual(
      expect.arrayContaining([expect.stringContaining('EndpointSlice apps/billing emptied')]),
    );
  });

  it('a follower never writes, not even when it stops', async () => {
    await f.started('a', T);
    const b = f.candidate('b', T);
    keepLeaderSlice(b.elector, recordingSlice(), endpoint('b'), 'apps/billing', b.logger);
    b.elector.start();
    await f.clock.advance(5_000);
    await b.elector.stop();
    expect(log).toEqual([]);
  });

  it('a denied write is logged with the rule it names and the election goes on', async () => {
    const a = f.candidate('a', T);
    const denied = new Error('add the rule { resources: ["endpointslices"] }');
    keepLeaderSlice(a.elector, recordingSlice(denied), endpoint('a'), 'apps/billing', a.logger);
    a.elector.start();
    await f.clock.advance(3_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.logger.at('error')).toEqual([
      expect.stringMatching(
        /^Could not write the leader's EndpointSlice \(the election goes on\): .*add the rule/,
      ),
    ]);
  });

  it('a write the API server did not answer is tried again after retryPeriod while the term lasts', async () => {
    const a = f.candidate('a', { ...T, retryPeriod: 50 });
    const unanswered = Object.assign(new Error('apply endpointslice apps/billing: timed out'), {
      name: 'EndpointSliceWriteError',
      status: undefined,
    });
    const slice = recordingSlice();
    let failures = 2;
    const flaky = {
      ...slice,
      write: async (leader: LeaderEndpoint, token: FencingToken) => {
        await slice.write(leader, token);
        if (failures-- > 0) throw unanswered;
        return { addressType: 'IPv4', endpoints: [] };
      },
    };
    keepLeaderSlice(a.elector, flaky, endpoint('a'), 'apps/billing', a.logger);
    a.elector.start();
    await f.clock.flush();
    await eventually(() => log.length === 3, 5_000, 'three writes');
    expect(new Set(log)).toEqual(new Set([`write a ${a.elector.fencingToken()} (lease: a)`]));
    expect(a.logger.at('error')).toHaveLength(2);
    expect(a.logger.at('log')).toEqual(
      expect.arrayContaining([expect.stringContaining('names this pod')]),
    );
  });

  it('a write refused for a later term is a warning, not an error, and is not tried again', async () => {
    const a = f.candidate('a', { ...T, retryPeriod: 50 });
    const fenced = Object.assign(new Error('refused, the slice was written by a later term'), {
      name: 'EndpointSliceFencedError',
    });
    keepLeaderSlice(a.elector, recordingSlice(fenced), endpoint('a'), 'apps/billing', a.logger);
    a.elector.start();
    await f.clock.flush();
    await eventually(() => a.logger.at('warn').length === 1, 5_000, 'the warning');
    expect(a.logger.at('warn')).toEqual([expect.stringContaining('written by a later term')]);
    expect(a.logger.at('error')).toEqual([]);
    expect(log).toHaveLength(1);
  });
});
