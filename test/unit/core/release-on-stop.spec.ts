// stop() releases what it holds, or says why not: F4 of ../shared/docs/reviews/security-3.md (a stop
// during a step-down's drain released nothing) and the skipped releases of F1.
import { LeaderElector, type ElectionMetrics } from '../../../lib/core/index.js';
import { OTHERS_FROM } from '../../../lib/core/takeover-delay.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };

describe('release on stop (F4)', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('stop() during a step-down drain releases, naming the successor, and the step-down says so', async () => {
    const a = await f.started('a', T);
    const b = await f.started('b', T);
    await f.clock.advance(OTHERS_FROM);
    const work = a.elector.beginLeaderWork()!;
    const steppedDown = a.elector.stepDown({ successor: 'b' });
    await f.clock.advance(100);
    const stopped = a.elector.stop();
    await f.clock.advance(100);
    work.end();
    await stopped;
    expect(await steppedDown).toBe(true);
    expect(f.store.current()).toEqual(
      expect.objectContaining({ holderIdentity: 'b' }), // b took the released Lease at once
    );
    await f.advanceChecking(500);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('stop() while the step-down is releasing waits for that release instead of leaving the Lease to expire', async () => {
    const a = await f.started('a', T);
    await f.started('b', T);
    await f.clock.advance(OTHERS_FROM);
    f.store.hold('update', 'a');
    const steppedDown = a.elector.stepDown();
    await f.clock.flush();
    const stopped = a.elector.stop();
    await f.clock.flush();
    f.store.release();
    await stopped;
    expect(await steppedDown).toBe(true);
    expect(a.logger.at('log').filter((line) => line.includes('released'))).toHaveLength(1);
    expect(a.logger.at('warn')).toEqual([]);
  });

  it('a stop that leaves the Lease to expire says why in one line and counts it', async () => {
    const skipped: string[] = [];
    const metrics: ElectionMetrics = {
      releaseSkipped: (name, reason) => skipped.push(`${name} ${reason}`),
    };
    const a = await f.started('a', T);
    f.store.partition('a');
    f.store.adminWrite(null);
    const c = await f.started('c', { ...T, metrics, leaseName: 'test' });
    expect(c.elector.isLeader()).toBe(false);
    await c.elector.stop();
    expect(skipped).toEqual(['test term-not-started']);
    expect(c.logger.at('warn')).toEqual([
      expect.stringMatching(/^c is not releasing .*: its term had not started/),
    ]);
    void a;
  });

  it('releaseOnStop: false says so at stop', async () => {
    const a = await f.started('a', { ...T, releaseOnStop: false });
    await a.elector.stop();
    expect(f.store.current()?.holderIdentity).toBe('a');
    expect(a.logger.at('warn')).toEqual([expect.stringContaining('releaseOnStop is false')]);
  });

  it('stop() while the step-down waits for a renew in flight releases once, and the step-down says so', async () => {
    const skipped: string[] = [];
    const metrics: ElectionMetrics = { releaseSkipped: (_name, reason) => skipped.push(reason) };
    const a = await f.started('a', { ...T, metrics });
    await f.started('b', T);
    f.store.hold('update', 'a');
    await f.clock.advance(5_000); // a's renew is held in flight
    const updatesBefore = f.calls('a').update;
    const steppedDown = a.elector.stepDown({ successor: 'b' });
    await f.clock.flush();
    const stopped = a.elector.stop();
    await f.clock.flush();
    f.store.release();
    await stopped;
    expect(await steppedDown).toBe(true);
    expect(f.calls('a').update - updatesBefore).toBe(1); // the release; the renew was counted before
    expect(skipped).toEqual([]);
    expect(f.store.current()?.preferredHolder ?? f.store.current()?.holderIdentity).toBe('b');
  });
});

void LeaderElector;
