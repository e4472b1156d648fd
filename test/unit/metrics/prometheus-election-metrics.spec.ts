import { Counter, Registry } from 'prom-client';
import {
  LeaderElectionError,
  LockUnavailableError,
  type ElectionMetrics,
} from '../../../lib/core/index.js';
import {
  ELECTION_METRIC_NAMES,
  PrometheusElectionMetrics,
  SetupError,
} from '../../../lib/metrics/index.js';
import { ElectionFixture } from '../support/election-fixture.js';

// client-go's cadence (a renew every retryPeriod), so that the figures below count per retry period.
const T = {
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
  renewInterval: 2_000,
};

/** Records every hook call as a line, e.g. `leaderOn test`. */
class RecordingMetrics implements Required<ElectionMetrics> {
  readonly calls: string[] = [];
  readonly renews: { ms: number; ok: boolean }[] = [];
  started(name: string) {
    this.calls.push(`started ${name}`);
  }
  leaderOn(name: string) {
    this.calls.push(`leaderOn ${name}`);
  }
  leaderOff(name: string) {
    this.calls.push(`leaderOff ${name}`);
  }
  slowpathExercised(name: string) {
    this.calls.push(`slowpath ${name}`);
  }
  renewed(_name: string, ms: number, ok: boolean) {
    this.renews.push({ ms, ok });
  }
  apiError(name: string, operation: string, kind: string) {
    this.calls.push(`apiError ${name} ${operation} ${kind}`);
  }
  leaderWork(name: string, task: string, outcome: string) {
    this.calls.push(`leaderWork ${name} ${task} ${outcome}`);
  }
  releaseSkipped(name: string, reason: string) {
    this.calls.push(`releaseSkipped ${name} ${reason}`);
  }
  fire(name: string, job: string, result: string) {
    this.calls.push(`fire ${name} ${job} ${result}`);
  }
  jobLastRun(name: string, job: string, at: number) {
    this.calls.push(`jobLastRun ${name} ${job} ${at}`);
  }
  forwardedRequest(name: string, result: string) {
    this.calls.push(`forwardedRequest ${name} ${result}`);
  }
  named(prefix: string): string[] {
    return this.calls.filter((call) => call.startsWith(prefix));
  }
}

/** The value of the series of `name` with exactly `labels`. */
async function value(registry: Registry, name: string, labels: Record<string, string>) {
  const data = await registry.getSingleMetric(name)!.get();
  const sample = data.values.find(
    (v) =>
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, expected]) => v.labels[key] === expected),
  );
  return sample?.value;
}

describe('election metrics hooks', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('reports leaderOn / leaderOff on every change of leadership, and the start', async () => {
    const metrics = new RecordingMetrics();
    const a = await f.started('a', { ...T, metrics });
    expect(metrics.calls.slice(0, 2)).toEqual(['started test', 'leaderOn test']);
    f.store.adminWrite({ holderIdentity: 'intruder', leaseDurationSeconds: 15 });
    await f.clock.flush();
    expect(a.elector.isLeader()).toBe(false);
    expect(metrics.named('leader')).toEqual(['leaderOn test', 'leaderOff test']);
    await f.clock.advance(15_000);
    expect(metrics.named('leader')).toEqual(['leaderOn test', 'leaderOff test', 'leaderOn test']);
    await a.elector.stop();
    expect(metrics.named('leader').at(-1)).toBe('leaderOff test');
  });

  it('never reports leaderOff for an instance that never led', async () => {
    const metrics = new RecordingMetrics();
    await f.started('a', T);
    await f.started('b', { ...T, metrics });
    await f.stopAll();
    expect(metrics.named('leader')).toEqual([]);
  });

  it('counts a slow path when a write based on the cached record meets a conflict', async () => {
    const metrics = new RecordingMetrics();
    await f.started('a', { ...T, metrics });
    // Someone else bumps the record without the leader's watch seeing it: its next renew is
    // based on its own last write, gets 409, reads, and renews on the fresh record.
    f.store.muteWatches('a');
    const current = f.store.current()!;
    f.store.adminWrite({ ...current, renewTime: new Date(0) });
    await f.clock.advance(2_000);
    expect(metrics.named('slowpath')).toEqual(['slowpath test']);
    expect(metrics.named('apiError')).toEqual(['apiError test update conflict']);
    expect(f.store.current()?.holderIdentity).toBe('a');
  });

  it('times every renew and reports API errors by operation and kind', async () => {
    const metrics = new RecordingMetrics();
    await f.started('a', { ...T, metrics });
    await f.clock.advance(4_000);
    expect(metrics.renews).toEqual([
      { ms: 0, ok: true },
      { ms: 0, ok: true },
    ]);
    f.store.failNext('update', new LockUnavailableError('boom'));
    await f.clock.advance(2_000);
    expect(metrics.renews.at(-1)).toEqual({ ms: 0, ok: false });
    expect(metrics.named('apiError')).toEqual(['apiError test update unavailable']);
  });

  it('counts leader work per task, executed on the leader and skipped on a follower', async () => {
    const leaderMetrics = new RecordingMetrics();
    const followerMetrics = new RecordingMetrics();
    const a = await f.started('a', { ...T, metrics: leaderMetrics });
    const b = await f.started('b', { ...T, metrics: followerMetrics });
    a.elector.beginLeaderWork('Jobs.run')!.end();
    expect(b.elector.beginLeaderWork('Jobs.run')).toBeNull();
    b.elector.recordSkippedWork('Api.post');
    a.elector.beginLeaderWork()!.end(); // unnamed work is not counted
    expect(leaderMetrics.named('leaderWork')).toEqual(['leaderWork test Jobs.run executed']);
    expect(followerMetrics.named('leaderWork')).toEqual([
      'leaderWork test Jobs.run skipped',
      'leaderWork test Api.post skipped',
    ]);
  });

  it('keeps electing when a hook throws, and logs it once', async () => {
    const metrics: ElectionMetrics = {
      leaderOn: () => {
        throw new Error('metrics backend down');
      },
      renewed: () => {
        throw new Error('metrics backend down');
      },
    };
    const a = await f.started('a', { ...T, metrics });
    await f.clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    const warnings = a.logger.at('warn').filter((m) => m.includes('metrics backend down'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/metrics hook leaderOn of test threw/);
  });
});

describe('PrometheusElectionMetrics', () => {
  let f: ElectionFixture;

  beforeEach(() => {
    f = new ElectionFixture();
  });

  afterEach(async () => {
    await f.stopAll();
  });

  it('shows a failover in client-go-named series: master status, transitions, renew latency', async () => {
    const registryA = new Registry();
    const registryB = new Registry();
    const a = await f.started('a', {
      ...T,
      releaseOnStop: false,
      metrics: new PrometheusElectionMetrics({ registry: registryA }),
    });
    await f.started('b', { ...T, metrics: new PrometheusElectionMetrics({ registry: registryB }) });
    const status = (registry: Registry) =>
      value(registry, ELECTION_METRIC_NAMES.masterStatus, { name: 'test' });
    expect(await status(registryA)).toBe(1);
    expect(await status(registryB)).toBe(0);

    await f.clock.advance(4_000); // two renews

    // a goes away without releasing the lease: b takes over when it expires.
    await a.elector.stop();
    await f.clock.advance(15_000);

    expect(await status(registryA)).toBe(0);
    expect(await status(registryB)).toBe(1);
    expect(
      await value(registryB, ELECTION_METRIC_NAMES.transitions, {
        name: 'test',
        transition: 'acquired',
      }),
    ).toBe(1);
    expect(
      await value(registryA, ELECTION_METRIC_NAMES.transitions, {
        name: 'test',
        transition: 'lost',
      }),
    ).toBe(1);
    const text = await registryA.metrics();
    expect(text).toContain(
      'leader_election_renew_duration_seconds_count{name="test",result="success"} 2',
    );
    expect(text).toContain('leader_election_slowpath_total{name="test"} 0');
    expect(text).toContain(
      'leader_election_releases_skipped_total{name="test",reason="disabled"} 1',
    );
  });

  it('registers on the default registry once, however many instances (several apps in a process)', async () => {
    const { register } = await import('prom-client');
    const first = new PrometheusElectionMetrics();
    const second = new PrometheusElectionMetrics();
    try {
      expect(first.registry).toBe(register);
      first.leaderOn('one');
      second.leaderOn('two');
      expect(await value(register, ELECTION_METRIC_NAMES.masterStatus, { name: 'one' })).toBe(1);
      expect(await value(register, ELECTION_METRIC_NAMES.masterStatus, { name: 'two' })).toBe(1);
    } finally {
      for (const name of Object.values(ELECTION_METRIC_NAMES)) register.removeSingleMetric(name);
    }
  });

  it('counts @LeaderOnly calls per method and API errors by kind', async () => {
    const registry = new Registry();
    const metrics = new PrometheusElectionMetrics({ registry });
    metrics.leaderWork('jobs', 'Billing.charge', 'executed');
    metrics.leaderWork('jobs', 'Billing.charge', 'skipped');
    metrics.leaderWork('jobs', 'Billing.charge', 'skipped');
    metrics.apiError('jobs', 'update', 'unavailable');
    const text = await registry.metrics();
    expect(text).toContain(
      'leader_election_leader_only_calls_total{name="jobs",method="Billing.charge",outcome="skipped"} 2',
    );
    expect(text).toContain(
      'leader_election_api_errors_total{name="jobs",operation="update",kind="unavailable"} 1',
    );
  });

  it('refuses a registry where one of its names is something else, naming it', () => {
    const registry = new Registry();
    new Counter({ name: 'leader_election_master_status', help: 'x', registers: [registry] });
    expect(() => new PrometheusElectionMetrics({ registry })).toThrow(SetupError);
    expect(() => new PrometheusElectionMetrics({ registry })).toThrow(LeaderElectionError);
    expect(() => new PrometheusElectionMetrics({ registry })).toThrow(
      /"leader_election_master_status" is already registered.*expected a gauge with labels name/,
    );
  });
});
