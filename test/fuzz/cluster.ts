import { ClientGoPeer } from './client-go-peer.js';
import { ElectorReplica, type ElectorClass } from './elector-replica.js';
import type { Random } from './random.js';
import type { Replica, SimContext } from './sim-context.js';
import { SpreadReplica } from './spread-replica.js';

/** A pod: what runs in it and on which machine (clock rate); restarts keep both. */
interface Slot {
  readonly kind: Replica['kind'];
  readonly base: string;
  readonly rate: number;
  restarts: number;
}

/** How long a stop may take before the checker calls it hung, ms. */
const STOP_LIMIT = 60_000;

/**
 * The replicas of one run: starts, graceful stops (checked: a stop releases or says why not),
 * kills and restarts, and the choice of a fault's target.
 */
export class Cluster {
  /** Replicas started and neither stopping nor killed. */
  readonly running = new Set<Replica>();
  private readonly slotOf = new Map<Replica, Slot>();
  private slots = 0;
  /** With `revisions`: the revision launches run; every restart rolls a new one out. */
  private generation = 0;

  constructor(
    private readonly context: SimContext,
    private readonly elector: ElectorClass,
    private readonly shares: number,
    private readonly random: Random,
  ) {}

  /** A new pod running `kind`, started now. */
  launch(kind: Replica['kind'], rate: number): Replica {
    const prefix = kind === 'client-go' ? 'go' : kind === 'spread' ? 's' : 'r';
    const slot: Slot = { kind, base: `${prefix}${this.slots++}`, rate, restarts: 0 };
    return this.start(slot, slot.base, slot.base);
  }

  /** The pod of a stopped or killed replica starts again, with its identity or a new one. */
  restart(replica: Replica, sameIdentity: boolean): Replica {
    const slot = this.slotOf.get(replica)!;
    slot.restarts += 1;
    this.generation += 1;
    const identity = sameIdentity ? replica.identity : `${slot.base}-${slot.restarts}`;
    const processName = sameIdentity ? `${identity}#${slot.restarts + 1}` : identity;
    return this.start(slot, identity, processName);
  }

  /** Stops `replica` gracefully; then checks that it released what it held, or said why not. */
  async stop(replica: Replica): Promise<void> {
    const { scheduler, trace, checker } = this.context;
    this.running.delete(replica);
    const from = scheduler.now;
    const held = replica.holds();
    trace.add(replica.host.name, `stopping (holds ${held.length ? held.join(', ') : 'nothing'})`);
    const hung = scheduler.schedule(from + STOP_LIMIT, undefined, 'world', () =>
      checker.stopHangs(replica.host.name, STOP_LIMIT),
    );
    await replica.stop();
    scheduler.cancel(hung);
    trace.add(replica.host.name, 'stopped');
    const holders = new Map(
      held.map((lease) => [lease, this.context.lease(lease).current()?.holderIdentity]),
    );
    if (replica.kind !== 'client-go') {
      checker.stopped(replica.host.name, replica.identity, holders, replica.logSince(from));
    }
    this.exit(replica);
  }

  /** Kills `replica` (SIGKILL): nothing of it runs any more; its requests in flight still land. */
  kill(replica: Replica): void {
    this.running.delete(replica);
    this.context.trace.add(replica.host.name, 'killed');
    this.exit(replica);
  }

  /**
   * A fault's target among running replicas: often a leader, or a holder that does not lead (it
   * still waits to lead), else any. `callable`: the fault calls into the process, so not a paused
   * one; `ours`: not the client-go peer.
   */
  target(options: { callable?: boolean; ours?: boolean } = {}): Replica | undefined {
    const candidates = [...this.running].filter(
      (replica) =>
        !(options.callable && replica.host.process.pauses > 0) &&
        !(options.ours && replica.kind === 'client-go'),
    );
    if (candidates.length === 0) return undefined;
    const draw = this.random.next();
    const leading = (replica: Replica) => replica.views.some((view) => view.leads());
    const leaders = candidates.filter(leading);
    if (draw < 0.35 && leaders.length > 0) return this.random.pick(leaders);
    // A holder that does not lead: it waits to lead (it created the Lease), or its term lapsed.
    const holders = candidates.filter((replica) => replica.holds().length > 0);
    const waiting = holders.filter((replica) => !leading(replica));
    if (draw < 0.6 && waiting.length > 0) return this.random.pick(waiting);
    if (draw < 0.6 && holders.length > 0) return this.random.pick(holders);
    return this.random.pick(candidates);
  }

  private start(slot: Slot, identity: string, processName: string): Replica {
    const replica = this.create(slot, identity, processName);
    this.slotOf.set(replica, slot);
    this.running.add(replica);
    for (const view of replica.views) this.context.checker.add(view);
    const rate = slot.rate.toFixed(3);
    const revision = this.revisionOf(slot);
    this.context.trace.add(
      processName,
      `started (${slot.kind}, identity ${identity}, clock rate ${rate}` +
        `${revision ? `, revision ${revision}` : ''})`,
    );
    replica.start();
    return replica;
  }

  private create(slot: Slot, identity: string, processName: string): Replica {
    switch (slot.kind) {
      case 'ours':
        return new ElectorReplica(
          this.context,
          identity,
          processName,
          slot.rate,
          this.elector,
          this.revisionOf(slot),
        );
      case 'client-go':
        return new ClientGoPeer(this.context, identity, processName, slot.rate);
      case 'spread':
        return new SpreadReplica(this.context, identity, processName, slot.rate, this.shares);
    }
  }

  /** The revision a replica of ours started now runs, with `revisions`. */
  private revisionOf(slot: Slot): string | undefined {
    return this.context.revisions && slot.kind === 'ours' ? `v${this.generation}` : undefined;
  }

  /** The process is gone: its tasks stop, the server sees its connections close. */
  private exit(replica: Replica): void {
    this.context.scheduler.kill(replica.host.process);
    this.context.network.disconnect(replica.host);
    for (const view of replica.views) this.context.checker.remove(view);
  }
}
