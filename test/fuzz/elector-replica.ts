import { LeaderElector } from '../../lib/core/leader-elector.js';
import type { LeaderElectorOptions } from '../../lib/core/elector-options.js';
import { countDecisions } from './decision-counts.js';
import type { Host } from './network.js';
import { describeChange, ReplicaLog } from './replica-log.js';
import type { LeaderView, Replica, SimContext } from './sim-context.js';
import { SimLock } from './sim-lock.js';
import { OnceTicker } from './once-ticker.js';
import { WorkLoop } from './work-loop.js';

/** The single election's Lease. */
export const MAIN_LEASE = 'fuzz';

/** A class of elector: ours, or a mutant of it (see mutants.ts). */
export type ElectorClass = new (options: LeaderElectorOptions) => LeaderElector;

/** A replica running our LeaderElector on the single Lease, with a cron-like leader-only job. */
export class ElectorReplica implements Replica {
  readonly kind = 'ours';
  readonly host: Host;
  readonly elector: LeaderElector;
  readonly lock: SimLock;
  readonly log: ReplicaLog;
  readonly views: readonly LeaderView[];
  private readonly work: WorkLoop;
  private readonly once: OnceTicker | undefined;

  constructor(
    private readonly context: SimContext,
    readonly identity: string,
    processName: string,
    rate: number,
    Elector: ElectorClass,
    revision?: string,
  ) {
    this.host = context.newHost(processName, rate);
    const { scheduler, trace, checker } = context;
    this.log = new ReplicaLog(trace, processName, () => scheduler.now);
    this.lock = new SimLock(context.network, this.host, context.lease(MAIN_LEASE), identity);
    const random = context.random(`elector ${processName}`);
    this.elector = new Elector({
      lock: this.lock,
      leaseName: MAIN_LEASE,
      clock: this.host.clock,
      logger: this.log,
      random: () => random.next(),
      ...context.timings,
      revision: revision ?? '',
    });
    countDecisions(this.elector, context.decisions);
    this.elector.onChange((event) => trace.add(processName, describeChange(event)));
    const elector = this.elector;
    this.views = [
      {
        lease: MAIN_LEASE,
        who: processName,
        leads: () => elector.isLeader(),
        token: () => elector.fencingToken()?.toString() ?? null,
      },
    ];
    const slot = {
      job: 'job',
      lease: MAIN_LEASE,
      beginLeaderWork: (job: string) => elector.beginLeaderWork(job),
    };
    this.work = new WorkLoop(this.host.clock, context.random(`work ${processName}`), () => [slot], {
      working: (lease, step, token) =>
        checker.working(processName, lease, step, token, this.host.clock.now(), this.lock),
    });
    this.once = context.once
      ? new OnceTicker(this.host.clock, context.random(`once ${processName}`), elector, {
          fired: (at, token) => checker.fired(processName, MAIN_LEASE, at, token),
        })
      : undefined;
  }

  start(): void {
    this.elector.start();
    this.work.start();
    this.once?.start();
  }

  async stop(): Promise<void> {
    await this.elector.stop();
    this.work.stop();
    this.once?.stop();
  }

  holds(): string[] {
    return this.elector.status().holdsLease ? [MAIN_LEASE] : [];
  }

  logSince(from: number) {
    return this.log.since(from);
  }
}
