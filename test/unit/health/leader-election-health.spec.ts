import { HealthIndicatorService } from '@nestjs/terminus';
import { type LeaderElectorOptions } from '../../../lib/core/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';
import { SpreadElector } from '../../../lib/core/spread/spread-elector.js';
import { SingleElection } from '../../../lib/core/single-election.js';
import { Election } from '../../../lib/election.js';
import { LeaderElectionHealthIndicator } from '../../../lib/health/index.js';
import { LeaderElectionRegistry } from '../../../lib/leader-election.registry.js';
import { ElectionFixture, type Candidate } from '../support/election-fixture.js';

// client-go's cadence (a renew every retryPeriod), so that the figures below count per retry period.
const T = {
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
  renewInterval: 2_000,
};

describe('LeaderElectionHealthIndicator', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  /** An indicator over one candidate's elector, registered as the default election. */
  async function indicatorFor(id: string, options: Partial<LeaderElectorOptions> = {}) {
    const candidate: Candidate = await f.started(id, { ...T, ...options });
    const registry = new LeaderElectionRegistry();
    registry.register(new Election('default', 'test', 'ns', new SingleElection(candidate.elector)));
    return {
      candidate,
      indicator: new LeaderElectionHealthIndicator(registry, new HealthIndicatorService()),
    };
  }

  it('reports a leader up, with its role, the holder and the age of its last renew', async () => {
    const { indicator } = await indicatorFor('a');
    await f.clock.advance(3_000); // renewed at 2 s
    expect(indicator.isHealthy('election')).toEqual({
      election: {
        status: 'up',
        election: 'default',
        lease: 'ns/test',
        identity: 'a',
        role: 'leader',
        holder: 'a',
        state: 'running',
        lastRenewAgoMs: 1_000,
      },
    });
  });

  it('reports a follower up, naming the leader', async () => {
    await f.started('a', T);
    const { indicator } = await indicatorFor('b');
    expect(indicator.isHealthy('election').election).toEqual(
      expect.objectContaining({ status: 'up', role: 'follower', holder: 'a', identity: 'b' }),
    );
  });

  it('reports down when the leader has not renewed for leaseDuration + renewTolerance (watchdog)', async () => {
    const { indicator } = await indicatorFor('a');
    // A stuck process: time passes, none of its timers run.
    f.clock.jump(15_000 + 5_000);
    expect(indicator.isHealthy('election', { renewTolerance: 5_000 }).election.status).toBe('up');
    f.clock.jump(1);
    const result = indicator.isHealthy('election', { renewTolerance: 5_000 }).election;
    expect(result).toEqual(
      expect.objectContaining({
        status: 'down',
        role: 'follower',
        lastRenewAgoMs: 20_001,
        message: expect.stringMatching(
          /has not renewed the lease for 20001 ms \(more than leaseDuration 15000 ms \+ renewTolerance 5000 ms\)/,
        ),
      }),
    );
    // Its timers run again: it steps down (no longer holds the lease) and re-acquires.
    await f.clock.advance(1);
    expect(indicator.isHealthy('election').election.status).toBe('up');
  });

  it('reports down when requests to the API server keep failing for longer than allowed, up when they succeed again', async () => {
    await f.started('a', T);
    const { indicator } = await indicatorFor('b');
    f.store.setUnavailable(true); // b's watch ends with an error: the failure streak starts
    await f.clock.advance(30_000);
    const options = { maxApiFailureDuration: 30_000 };
    expect(indicator.isHealthy('election', options).election).toEqual(
      expect.objectContaining({
        status: 'up',
        apiFailingForMs: 30_000,
        lastError: 'LockUnavailableError: connection refused (simulated)',
      }),
    );
    await f.clock.advance(1);
    expect(indicator.isHealthy('election', options).election).toEqual(
      expect.objectContaining({
        status: 'down',
        message: 'requests to the API server have been failing for 30001 ms (more than 30000 ms)',
      }),
    );
    f.store.setUnavailable(false);
    await f.clock.advance(35_000); // the watch is re-opened (backoff up to 30 s)
    const healthy = indicator.isHealthy('election', options).election;
    expect(healthy.status).toBe('up');
    expect(healthy).not.toHaveProperty('apiFailingForMs');
  });

  it('hides the details with details: false (no identity, holder or last error), keeping the status', async () => {
    await f.started('a', T);
    const { indicator } = await indicatorFor('b');
    const hidden = { details: false, maxApiFailureDuration: 30_000 };
    expect(indicator.isHealthy('election', hidden)).toEqual({ election: { status: 'up' } });
    f.store.setUnavailable(true);
    await f.clock.advance(30_001);
    // Down for the same reason as with details, said without the error's text.
    expect(indicator.isHealthy('election', hidden)).toEqual({
      election: {
        status: 'down',
        message: 'requests to the API server have been failing for 30001 ms (more than 30000 ms)',
      },
    });
    expect(indicator.isHealthy('election', { maxApiFailureDuration: 30_000 }).election).toEqual(
      expect.objectContaining({ identity: 'b', lastError: expect.any(String) }),
    );
    expect(() => indicator.isHealthy('election', { details: 'no' as never })).toThrow(
      /details must be true or false/,
    );
  });

  it('does not count conflicts as failures (the server answered)', async () => {
    const { candidate, indicator } = await indicatorFor('a');
    f.store.muteWatches('a');
    f.store.adminWrite({ ...f.store.current()!, renewTime: new Date(0) });
    await f.clock.advance(2_000);
    expect(candidate.elector.status().failingForMs).toBeUndefined();
    expect(indicator.isHealthy('election').election.status).toBe('up');
  });

  it('a follower with a quiet, open watch stays healthy however long nothing happens', async () => {
    await f.started('a', T);
    const { indicator } = await indicatorFor('b');
    await f.clock.advance(600_000);
    expect(indicator.isHealthy('election').election.status).toBe('up');
  });

  it('reports shutting_down (down) from the moment the app closes', async () => {
    const { candidate, indicator } = await indicatorFor('a');
    const stopping = candidate.elector.stop();
    expect(indicator.isHealthy('election').election).toEqual(
      expect.objectContaining({ status: 'down', state: 'shutting_down', message: 'shutting down' }),
    );
    await stopping;
    expect(indicator.isHealthy('election').election.state).toBe('shutting_down');
  });

  it('checks a named election, and rejects a negative tolerance', async () => {
    const candidate = await f.started('a', T);
    const registry = new LeaderElectionRegistry();
    registry.register(
      new Election('jobs', 'test', undefined, new SingleElection(candidate.elector)),
    );
    const indicator = new LeaderElectionHealthIndicator(registry, new HealthIndicatorService());
    expect(indicator.isHealthy('jobs', { election: 'jobs' }).jobs).toEqual(
      expect.objectContaining({ status: 'up', election: 'jobs', lease: 'test' }),
    );
    expect(() => indicator.isHealthy('x')).toThrow(/No leader election named "default"/);
    expect(() => indicator.isHealthy('jobs', { election: 'jobs', renewTolerance: -1 })).toThrow(
      /renewTolerance must be a number of milliseconds >= 0/,
    );
  });

  it('lists each share of a spread election, and is down when one share keeps failing', async () => {
    const stores = new Map<string, InMemoryLeaseStore>();
    const spread = new SpreadElector({
      ...T,
      clock: f.clock,
      leaseName: 'jobs',
      shares: 2,
      lockFor: (name) => {
        if (!stores.has(name)) stores.set(name, new InMemoryLeaseStore());
        return new InMemoryLeaseLock(stores.get(name)!, 'a', name);
      },
    });
    const registry = new LeaderElectionRegistry();
    registry.register(new Election('jobs', 'jobs', 'ns', spread));
    const indicator = new LeaderElectionHealthIndicator(registry, new HealthIndicatorService());
    spread.start();
    await f.clock.advance(3_000);
    expect(indicator.isHealthy('jobs', { election: 'jobs' }).jobs).toEqual({
      status: 'up',
      election: 'jobs',
      lease: 'ns/jobs',
      identity: 'a',
      role: 'leader',
      holder: null,
      state: 'running',
      shares: [
        { share: 0, lease: 'ns/jobs-share-0', role: 'leader', holder: 'a', lastRenewAgoMs: 1_000 },
        { share: 1, lease: 'ns/jobs-share-1', role: 'leader', holder: 'a', lastRenewAgoMs: 1_000 },
      ],
    });
    // Share 1's requests hang and time out: it stops leading, and after 60 s of failures the
    // check is down although share 0 is fine.
    stores.get('jobs-share-1')!.hold('update');
    await f.clock.advance(70_000);
    const down = indicator.isHealthy('jobs', { election: 'jobs' }).jobs;
    expect(down).toEqual(
      expect.objectContaining({
        status: 'down',
        message: expect.stringMatching(/^requests to the API server have been failing for/),
        lastError: expect.stringContaining('in-memory lease jobs-share-1 timed out'),
      }),
    );
    const shares = (down as { shares?: { role: string }[] }).shares;
    expect(shares?.map((share) => share.role)).toEqual(['leader', 'follower']);
    stores.get('jobs-share-1')!.release();
    await spread.stop();
  });

  it("shows a spread election's failing membership as a detail, and stays up", async () => {
    const stores = new Map<string, InMemoryLeaseStore>();
    const spread = new SpreadElector({
      ...T,
      clock: f.clock,
      leaseName: 'jobs',
      shares: 2,
      lockFor: (name) => {
        if (!stores.has(name)) stores.set(name, new InMemoryLeaseStore());
        return new InMemoryLeaseLock(stores.get(name)!, 'a', name);
      },
    });
    const registry = new LeaderElectionRegistry();
    registry.register(new Election('jobs', 'jobs', 'ns', spread));
    const indicator = new LeaderElectionHealthIndicator(registry, new HealthIndicatorService());
    spread.start();
    await f.clock.advance(3_000);
    // Only the membership Lease fails (e.g. no RBAC grant on it): the shares are still elected,
    // only their balance suffers. Past maxApiFailureDuration the check stays up, saying why.
    stores.get('jobs-members')!.setUnavailable(true);
    await f.clock.advance(70_000);
    const health = indicator.isHealthy('jobs', { election: 'jobs' }).jobs;
    expect(health).toEqual(
      expect.objectContaining({
        status: 'up',
        role: 'leader',
        membership: {
          lease: 'ns/jobs-members',
          apiFailingForMs: expect.any(Number),
          lastError: expect.stringContaining('connection refused'),
        },
      }),
    );
    expect(health.membership.apiFailingForMs).toBeGreaterThan(60_000);
    expect(health).not.toHaveProperty('apiFailingForMs');
    stores.get('jobs-members')!.setUnavailable(false);
    await spread.stop();
  });
});
