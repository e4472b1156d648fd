// Hooks that run before a release (the leader's EndpointSlice is emptied this way): while the Lease
// still names the releasing leader, with its term's fencing token, on a step-down and on stop; a hook
// that hangs or fails delays the release by at most the request timeout and never prevents it.
import type { FencingToken } from '../../../lib/core/index.js';
import { OTHERS_FROM } from '../../../lib/core/takeover-delay.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = {
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
  requestTimeout: 2_500,
};

describe('before-release hooks', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it.each(['stop', 'stepDown'] as const)(
    'run on %s while the Lease still names the leader, with its token, then the release',
    async (how) => {
      const a = await f.started('a', T);
      await f.clock.advance(OTHERS_FROM);
      const seen: { holder: string | null | undefined; token: FencingToken }[] = [];
      a.elector.beforeRelease(async (token) => {
        seen.push({ holder: f.store.current()?.holderIdentity, token });
      });
      const token = a.elector.fencingToken()!;
      if (how === 'stop') await a.elector.stop();
      else await a.elector.stepDown();
      expect(seen).toEqual([{ holder: 'a', token }]);
      expect(f.store.current()?.holderIdentity).toBe('');
    },
  );

  it('do not run for a follower, which releases nothing', async () => {
    await f.started('a', T);
    const b = await f.started('b', T);
    let runs = 0;
    b.elector.beforeRelease(async () => void runs++);
    await b.elector.stop();
    expect(runs).toBe(0);
  });

  it('a hook that hangs delays the release by the request timeout, then it is released', async () => {
    const a = await f.started('a', T);
    await f.clock.advance(OTHERS_FROM);
    a.elector.beforeRelease(() => new Promise<void>(() => undefined));
    let stopped = false;
    const stopping = a.elector.stop().then(() => (stopped = true));
    await f.clock.advance(2_400);
    expect(stopped).toBe(false);
    expect(f.store.current()?.holderIdentity).toBe('a');
    await f.clock.advance(200);
    await stopping;
    expect(f.store.current()?.holderIdentity).toBe('');
    expect(a.logger.at('warn')).toEqual([expect.stringContaining('longer than 2500 ms')]);
  });

  it('a hook that fails is logged and the Lease is released', async () => {
    const a = await f.started('a', T);
    await f.clock.advance(OTHERS_FROM);
    a.elector.beforeRelease(async () => {
      throw new Error('403 from the API server');
    });
    await a.elector.stop();
    expect(f.store.current()?.holderIdentity).toBe('');
    expect(a.logger.at('warn')).toEqual([expect.stringContaining('403 from the API server')]);
  });
});
