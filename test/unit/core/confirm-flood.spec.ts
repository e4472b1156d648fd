// Confirmed leadership under a stream of callers (a confirmed handler under load), on the in-memory
// Lease with the fake clock: the Lease writes it costs are bounded, and each true answer still rests
// on a write that started after its call.
import type { Clock } from '../../../lib/core/clock.js';
import type { LeaseRecord, LeaseSpec, LockCallOptions } from '../../../lib/core/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { ElectionFixture } from '../support/election-fixture.js';

const T = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };
/** The documented bound: at most one confirmation write per 100 ms. */
const INTERVAL = 100;

/** An in-memory lock that notes when each update started, by the elector's clock. */
class TimedLock extends InMemoryLeaseLock {
  readonly updateStarts: number[] = [];

  constructor(
    store: InMemoryLeaseStore,
    identity: string,
    private readonly clock: Clock,
  ) {
    super(store, identity, 'test');
  }

  override update(
    spec: LeaseSpec,
    version: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    this.updateStarts.push(this.clock.now());
    return super.update(spec, version, options);
  }
}

interface Answer {
  calledAt: number;
  answeredAt?: number;
  confirmed?: boolean;
}

describe('confirmLeadership under a stream of callers', () => {
  let f: ElectionFixture;
  let lock: TimedLock;
  beforeEach(() => {
    f = new ElectionFixture();
    lock = new TimedLock(f.store, 'a', f.clock);
  });
  afterEach(() => f.stopAll());

  async function leader() {
    const a = f.candidate('a', { ...T, lock });
    a.elector.start();
    await f.clock.flush();
    expect(a.elector.isLeader()).toBe(true);
    return a;
  }

  function confirm(a: Awaited<ReturnType<typeof leader>>, answers: Answer[]): Promise<void> {
    const answer: Answer = { calledAt: f.clock.now() };
    answers.push(answer);
    return a.elector.confirmLeadership().then((confirmed) => {
      Object.assign(answer, { confirmed, answeredAt: f.clock.now() });
    });
  }

  /** Every answer is true, and a write started at or after its call and before its answer. */
  function expectConfirmedAfterCalls(answers: Answer[]) {
    for (const answer of answers) {
      expect(answer.confirmed).toBe(true);
      const write = lock.updateStarts.find(
        (start) => start >= answer.calledAt && start <= answer.answeredAt!,
      );
      expect({ ...answer, write }).toEqual({ ...answer, write: expect.any(Number) });
    }
  }

  it('makes at most one write per interval for a sustained stream, every caller still confirmed', async () => {
    const a = await leader();
    await f.clock.advance(1_000);
    const before = lock.updateStarts.length;
    const answers: Answer[] = [];
    const pending: Promise<void>[] = [];
    // 4 callers every millisecond for 2 s: 8,000 confirmations.
    for (let t = 0; t < 2_000; t += 1) {
      for (let i = 0; i < 4; i += 1) pending.push(confirm(a, answers));
      await f.clock.advance(1);
    }
    await f.clock.advance(INTERVAL);
    await Promise.all(pending);
    const writes = lock.updateStarts.slice(before);
    // Scheduled renews included (none falls due: each write moves the next one renewInterval on).
    expect(writes.length).toBeLessThanOrEqual(2_000 / INTERVAL + 1);
    for (let i = 1; i < writes.length; i += 1) {
      expect(writes[i] - writes[i - 1]).toBeGreaterThanOrEqual(INTERVAL);
    }
    expect(answers).toHaveLength(8_000);
    expectConfirmedAfterCalls(answers);
  });

  it('makes callers that arrive during a write share the next one, an interval after it', async () => {
    const a = await leader();
    await f.clock.advance(1_000);
    const before = lock.updateStarts.length;
    const answers: Answer[] = [];
    f.store.hold('update', 'a');
    const first = confirm(a, answers); // its write starts now and hangs
    await f.clock.advance(10);
    const during = [confirm(a, answers), confirm(a, answers)]; // the write is in flight
    await f.clock.advance(10);
    f.store.release();
    await first;
    expect(answers.map((answer) => answer.confirmed)).toEqual([true, undefined, undefined]);
    await f.clock.advance(INTERVAL);
    await Promise.all(during);
    const [firstWrite, nextWrite, ...rest] = lock.updateStarts.slice(before);
    expect(rest).toEqual([]);
    expect(nextWrite - firstWrite).toBe(INTERVAL);
    expectConfirmedAfterCalls(answers);
  });

  it('confirms an isolated call with a write at once, as before', async () => {
    const a = await leader();
    await f.clock.advance(1_000);
    const before = lock.updateStarts.length;
    const answers: Answer[] = [];
    await confirm(a, answers);
    await f.clock.advance(INTERVAL);
    await confirm(a, answers);
    expect(lock.updateStarts.slice(before)).toEqual([1_000, 1_000 + INTERVAL]);
    expectConfirmedAfterCalls(answers);
  });
});
