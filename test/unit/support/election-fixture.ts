import {
  LeaderElector,
  type ElectorLogger,
  type LeaderChangeEvent,
  type LeaderElectorOptions,
} from '../../../lib/core/index.js';
import { FakeClock } from '../../../lib/core/fake-clock.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/core/memory-lock.js';

/** A logger that records lines, so tests can assert what an operator would read. */
export class RecordingLogger implements ElectorLogger {
  readonly lines: { level: string; message: string }[] = [];
  log(message: string) {
    this.lines.push({ level: 'log', message });
  }
  warn(message: string) {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string) {
    this.lines.push({ level: 'error', message });
  }
  debug(message: string) {
    this.lines.push({ level: 'debug', message });
  }
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

export interface Candidate {
  readonly id: string;
  readonly elector: LeaderElector;
  readonly events: LeaderChangeEvent[];
  readonly logger: RecordingLogger;
}

/** One in-memory Lease, a fake clock, and candidates built on them with test timings 15/10/2 s. */
export class ElectionFixture {
  readonly clock = new FakeClock();
  readonly store = new InMemoryLeaseStore();
  readonly candidates: Candidate[] = [];

  candidate(id: string, options: Partial<LeaderElectorOptions> = {}): Candidate {
    const logger = new RecordingLogger();
    const elector = new LeaderElector({
      lock: new InMemoryLeaseLock(this.store, id, 'test'),
      leaseName: 'test',
      clock: this.clock,
      logger,
      random: () => 0,
      ...options,
    });
    const events: LeaderChangeEvent[] = [];
    elector.onChange((event) => events.push(event));
    const candidate = { id, elector, events, logger };
    this.candidates.push(candidate);
    return candidate;
  }

  /** Starts a candidate and lets its first round settle. */
  async started(id: string, options: Partial<LeaderElectorOptions> = {}): Promise<Candidate> {
    const candidate = this.candidate(id, options);
    candidate.elector.start();
    await this.clock.flush();
    return candidate;
  }

  leaders(): string[] {
    return this.candidates.filter((c) => c.elector.isLeader()).map((c) => c.id);
  }

  /** Advances time in small steps, asserting that no two candidates lead at any step. */
  async advanceChecking(ms: number, step = 50): Promise<void> {
    for (let passed = 0; passed < ms; passed += step) {
      await this.clock.advance(Math.min(step, ms - passed));
      const leaders = this.leaders();
      if (leaders.length > 1) {
        throw new Error(`two leaders at t=${this.clock.now()}: ${leaders.join(', ')}`);
      }
    }
  }

  calls(identity: string) {
    return {
      get: this.store.count({ identity, operation: 'get' }),
      create: this.store.count({ identity, operation: 'create' }),
      update: this.store.count({ identity, operation: 'update' }),
      watch: this.store.count({ identity, operation: 'watch' }),
    };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.candidates.map((c) => c.elector.stop()));
    await this.clock.flush();
  }
}
