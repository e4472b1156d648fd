// The share-count gate seen from the Nest layer: during a rollout that changes `shares`, a
// `@LeaderOnly` job that another share count maps elsewhere is skipped on the replica that joined
// second, and `LeaderService` says it does not run it, until no member with that count is left.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { LeaderOnly, LeaderService } from '../../../lib/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { shareOf } from '../../../lib/core/spread/shares.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';
import { Election } from '../../../lib/election.js';
import { REGISTRY_PROPERTY } from '../../../lib/leader-election.constants.js';
import { LeaderElectionRegistry } from '../../../lib/leader-election.registry.js';

// One job that 6 and 8 shares map to the same share, one they map to different shares.
const jobs = Array.from({ length: 50 }, (_, i) => `job${i}`);
const kept = jobs.find((job) => shareOf(job, 6) === shareOf(job, 8))!;
const moved = jobs.find((job) => shareOf(job, 6) !== shareOf(job, 8))!;

@Injectable()
class Jobs {
  readonly runs: string[] = [];

  @LeaderOnly({ election: 'jobs', job: kept })
  kept(): void {
    this.runs.push('kept');
  }

  @LeaderOnly({ election: 'jobs', job: moved })
  moved(): void {
    this.runs.push('moved');
  }
}

describe('@LeaderOnly and LeaderService during a rollout changing shares', () => {
  it('skip a moved job while a member with the older count lives, then run it', async () => {
    const clock = new FakeClock();
    const stores = new Map<string, InMemoryLeaseStore>();
    const store = (name: string) => {
      if (!stores.has(name)) stores.set(name, new InMemoryLeaseStore());
      return stores.get(name)!;
    };
    // A replica with 6 shares is a member before this one (8 shares) joins; it leads no share.
    const old = new InMemoryLeaseLock(store('jobs-members'), 'old', 'jobs-members');
    const now = clock.wallNow();
    await old.create({
      holderIdentity: '',
      leaseDurationSeconds: 90,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
      members: { old: { until: now.getTime() + 90_000, ttl: 90_000, shares: 6 } },
    });
    const logs: string[] = [];
    const spread = new SpreadElector({
      leaseName: 'jobs',
      shares: 8,
      clock,
      random: () => 0.5,
      logger: { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      lockFor: (name) => new InMemoryLeaseLock(store(name), 'new', name),
    });
    const registry = new LeaderElectionRegistry();
    registry.register(new Election('jobs', 'jobs', undefined, spread));
    const leader = new LeaderService(registry);
    const app = new Jobs();
    Object.assign(app, { [REGISTRY_PROPERTY]: registry });
    spread.start();
    await clock.advance(20_000); // leads every share (new Leases: one lease duration after creating)
    expect(spread.ledShares()).toHaveLength(8);

    for (let i = 0; i < 3; i += 1) {
      app.kept();
      app.moved();
    }
    expect(app.runs).toEqual(['kept', 'kept', 'kept']);
    expect(leader.isLeaderFor(kept, 'jobs')).toBe(true);
    expect(leader.isLeaderFor(moved, 'jobs')).toBe(false);
    expect(leader.fencingTokenFor(moved, 'jobs')).toBeNull();
    expect(leader.leadershipSignalFor(moved, 'jobs').aborted).toBe(true);
    // Said once, not per call.
    expect(logs.filter((line) => line.includes('held back'))).toEqual([
      expect.stringContaining(`job ${moved} held back on share ${shareOf(moved, 8)}`),
    ]);

    // The old member's entry is not renewed: it counts for its ttl (90 s) after this one saw it.
    await clock.advance(60_000);
    app.moved();
    expect(leader.isLeaderFor(moved, 'jobs')).toBe(false);
    await clock.advance(15_000);
    app.moved();
    app.moved();
    expect(app.runs).toEqual(['kept', 'kept', 'kept', 'moved', 'moved']);
    expect(leader.isLeaderFor(moved, 'jobs')).toBe(true);
    expect(logs.filter((line) => line.includes('held back'))).toHaveLength(1);
    expect(logs.filter((line) => line.includes('runs on share'))).toHaveLength(1);
    await spread.stop();
  });
});
