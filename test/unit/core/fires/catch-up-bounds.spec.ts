// What a new leader catches up is bounded: fires older than the catch-up window are missed, and
// `catchUp: 'all'` runs at most CATCH_UP_BOUND of them (the most recent), the older ones missed; each
// with its outcome. Without `once`, the fires that fall due while nobody leads are lost: the
// positive control of the crash scenario.
import { CATCH_UP_BOUND } from '../../../../lib/core/fires/catch-up-plan.js';
import { every, OnceReplicas, type Replica } from '../../support/once-replicas.js';

const START = new Date('2026-12-07T10:00:00.200Z').getTime();
const schedule = every(1_000);

/** The wall time at which `replica` first leads. */
function ledAt(replica: Replica): () => number | undefined {
  let at: number | undefined;
  replica.elector.onChange((event) => {
    if (event.isLeader) at ??= replica.clock.wallNow().getTime();
  });
  return () => at;
}

describe('once jobs: the catch-up window and bound', () => {
  let r: OnceReplicas;
  beforeEach(() => {
    r = new OnceReplicas();
  });
  afterEach(() => r.stopAll());

  it('reports fires older than catchUpWindow as missed and catches up those within it', async () => {
    const a = r.start('a');
    await r.clock.advance(3_000);
    a.crash();
    await r.clock.advance(20_000); // nobody leads
    const b = r.start('b', { catchUp: 'all', window: 5_000 });
    const led = ledAt(b);
    await r.clock.advance(8_000);
    const windowStart = led()! - 5_000;
    const missed = r.results('missed');
    const caughtUp = r.runs.filter((run) => run.catchUp).map((run) => run.at);
    expect(missed.length).toBeGreaterThanOrEqual(15);
    expect(missed.every((at) => at < windowStart)).toBe(true);
    expect(caughtUp.length).toBeGreaterThanOrEqual(4);
    expect(caughtUp.every((at) => at >= windowStart)).toBe(true);
    expect(r.doubles()).toEqual([]);
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
  });

  it(`with catchUp 'all', runs the most recent ${CATCH_UP_BOUND} missed fires and reports older ones missed`, async () => {
    const a = r.start('a');
    await r.clock.advance(3_000);
    a.crash();
    await r.clock.advance(150_000); // 150 fires, all within the 5 min window
    const b = r.start('b', { catchUp: 'all' });
    const led = ledAt(b);
    await r.clock.advance(40_000);
    const missed = r.results('missed');
    // Fires due by the time b led: the bound applies to them; later ones fell due while it caught up.
    const caughtUp = r.runs.filter((run) => run.catchUp && run.at <= led()!).map((run) => run.at);
    expect(caughtUp).toHaveLength(CATCH_UP_BOUND);
    expect(caughtUp).toEqual([...caughtUp].sort((x, y) => x - y));
    expect(missed.length).toBeGreaterThanOrEqual(40);
    expect(Math.max(...missed)).toBeLessThan(Math.min(...caughtUp));
    expect(r.results('coalesced')).toEqual([]);
    expect(r.doubles()).toEqual([]);
    expect(r.unaccounted(schedule, START + 1_000, r.clock.wallNow().getTime() - 1_000)).toEqual([]);
  });

  it('without once, the fires that fall due while nobody leads are lost (positive control of the crash)', async () => {
    const scenario = async (plain: boolean) => {
      const set = new OnceReplicas();
      const a = set.start('a', { plain });
      await set.clock.advance(100);
      const b = set.start('b', { plain });
      const led = ledAt(b);
      await set.clock.advance(5_000);
      a.crash();
      const crashedAt = set.clock.wallNow().getTime();
      await set.clock.advance(8_000);
      await set.stopAll();
      const lost = set.unaccounted(schedule, START + 1_000, set.clock.wallNow().getTime() - 1_000);
      return { lost, doubles: set.doubles(), crashedAt, ledAt: led()! };
    };
    const plain = await scenario(true);
    expect(plain.lost.length).toBeGreaterThanOrEqual(2);
    expect(plain.lost.every((at) => at > plain.crashedAt - 1_000 && at <= plain.ledAt)).toBe(true);
    const once = await scenario(false);
    expect(once.lost).toEqual([]);
    expect(once.doubles).toEqual([]);
  });
});
