import { SpreadElector } from '../../lib/core/spread/spread-elector.js';
import { shareLeaseName } from '../../lib/core/spread/shares.js';
import { countDecisions } from './decision-counts.js';
import type { Host } from './network.js';
import { describeChange, ReplicaLog } from './replica-log.js';
import type { LeaderView, Replica, SimContext } from './sim-context.js';
import { SimLock } from './sim-lock.js';
import { WorkLoop, type JobSlot } from './work-loop.js';

/** The spread election's Lease name: shares on `fuzz-share-<i>`, members on `fuzz-members`. */
export const SPREAD_LEASE = 'fuzz';

/** The jobs of the spread election (each runs on the share `shareOf` gives it). */
const JOBS = ['billing', 'reports', 'cleanup', 'mailer', 'indexer', 'backup'];

/** A replica of an election spread over shares (SpreadElector), with leader-only jobs. */
export class SpreadReplica implements Replica {
  readonly kind = 'spread';
  readonly host: Host;
  readonly spread: SpreadElector;
  readonly log: ReplicaLog;
  readonly views: readonly LeaderView[];
  private readonly locks = new Map<string, SimLock>();
  private readonly work: WorkLoop;

  constructor(
    context: SimContext,
    readonly identity: string,
    processName: string,
    rate: number,
    shares: number,
  ) {
    this.host = context.newHost(processName, rate);
    const { scheduler, trace, checker } = context;
    this.log = new ReplicaLog(trace, processName, () => scheduler.now);
    const random = context.random(`spread ${processName}`);
    this.spread = new SpreadElector({
      leaseName: SPREAD_LEASE,
      shares,
      lockFor: (name) => {
        const lock = new SimLock(context.network, this.host, context.lease(name), identity);
        this.locks.set(name, lock);
        return lock;
      },
      clock: this.host.clock,
      logger: this.log,
      random: () => random.next(),
      ...context.timings,
    });
    this.spread.electors.forEach((elector, share) => {
      countDecisions(elector, context.decisions);
      elector.onChange((event) =>
        trace.add(processName, `share ${share} ${describeChange(event)}`),
      );
    });
    this.views = this.spread.electors.map((elector, share) => ({
      lease: shareLeaseName(SPREAD_LEASE, share),
      who: processName,
      leads: () => elector.isLeader(),
      token: () => elector.fencingToken()?.toString() ?? null,
    }));
    const slots: JobSlot[] = JOBS.map((job) => {
      const elector = this.spread.electorFor(job);
      return {
        job,
        lease: elector.name,
        // As `@LeaderOnly` does: a job held back by the share-count gate does not run.
        beginLeaderWork: (name: string) =>
          this.spread.holdsBack(job) ? null : elector.beginLeaderWork(name),
      };
    });
    this.work = new WorkLoop(this.host.clock, context.random(`work ${processName}`), () => slots, {
      working: (lease, step, token) =>
        checker.working(
          processName,
          lease,
          step,
          token,
          this.host.clock.now(),
          this.locks.get(lease)!,
        ),
    });
  }

  start(): void {
    this.spread.start();
    this.work.start();
  }

  async stop(): Promise<void> {
    await this.spread.stop();
    this.work.stop();
  }

  /** The lock of the Lease named `name` (a share's, or the membership Lease). */
  lockOf(name: string): SimLock {
    return this.locks.get(name)!;
  }

  holds(): string[] {
    return this.spread.electors.filter((e) => e.status().holdsLease).map((e) => e.name);
  }

  logSince(from: number) {
    return this.log.since(from);
  }
}
