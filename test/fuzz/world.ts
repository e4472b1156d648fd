import { resolveElectorOptions } from '../../lib/core/elector-options.js';
import { LeaderElector } from '../../lib/core/leader-elector.js';
import type { LeaseLock } from '../../lib/core/lock.js';
import { Checker, type InvariantName, type Violation } from './invariants.js';
import { Cluster } from './cluster.js';
import { FaultInjector } from './fault-injector.js';
import { planFaults } from './faults.js';
import { SimLease } from './lease-stores.js';
import { MUTANTS, type MutantName } from './mutants.js';
import { Link, Network, type Host } from './network.js';
import { Random } from './random.js';
import { describeScenario, scenarioFor, TIMINGS, type Scenario } from './scenario.js';
import { Scheduler, SimProcess } from './scheduler.js';
import { SimClock } from './sim-clock.js';
import type { SimContext } from './sim-context.js';
import { Trace } from './trace.js';

export interface RunOptions {
  readonly seed: number;
  /** Simulated time, ms (default 120 s). */
  readonly durationMs?: number;
  /** Only seeds of the single Lease (default: with a mutant, which replaces those electors). */
  readonly singleOnly?: boolean;
  /** A positive control: our electors with a safety rule removed. */
  readonly mutant?: MutantName;
  /** A positive control: clock rates beyond the documented bound. */
  readonly clockRateBeyond?: boolean;
  /** Invariants not enforced, to look past a known failure. */
  readonly ignore?: readonly InvariantName[];
  /** Replicas on the single Lease also run a `once` cron job (invariant fire-once). */
  readonly once?: boolean;
  /** Replicas of ours know a revision; restarts roll new ones out (see `SimContext.revisions`). */
  readonly revisions?: boolean;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: Scenario;
  /** The first invariant broken, if any (a run stops at it). */
  readonly violations: readonly Violation[];
  readonly trace: readonly string[];
  /** Faults injected, per kind (and variant). */
  readonly faults: ReadonlyMap<string, number>;
  /** Decision reasons reached by our electors. */
  readonly decisions: ReadonlyMap<string, number>;
  /** Simulated time, ms, and scheduler steps. */
  readonly simulatedMs: number;
  readonly steps: number;
}

/** Our electors' default request timeout at these timings: renewDeadline / 4, at least 2 s. */
const REQUEST_TIMEOUT = resolveElectorOptions({
  lock: { identity: 'fuzz', description: 'fuzz' } as LeaseLock,
  ...TIMINGS,
}).requestTimeout;

/** Invariants are also checked this often when nothing happens, ms. */
const CHECK_EVERY = 100;
/** Replicas start within this time, ms; faults come after. */
const START_WITHIN = 2000;
/** How long the last restarts may take (a stop drains work first), ms. */
const STOP_ALLOWANCE = 15_000;

/** One simulated run of a seed: the replicas, the fault schedule, the checker. */
export async function runSeed(options: RunOptions): Promise<RunResult> {
  const scenario = scenarioFor({
    seed: options.seed,
    durationMs: options.durationMs,
    singleOnly: options.singleOnly ?? options.mutant !== undefined,
    clockRateBeyond: options.clockRateBeyond,
  });
  const world = new World(
    scenario,
    options.ignore ?? [],
    options.once === true,
    options.revisions === true,
  );
  const Elector = options.mutant ? MUTANTS[options.mutant] : LeaderElector;
  const cluster = new Cluster(world, Elector, scenario.shares, world.random('targets'));
  const injector = new FaultInjector(world, cluster, scenario, world.random('faults'));
  const { scheduler, checker, trace } = world;
  trace.add('run', `seed ${scenario.seed}: ${describeRun(scenario, options)}`);

  const starts = world.random('starts');
  for (let i = 0; i < scenario.replicas; i += 1) {
    const kind =
      scenario.mode === 'spread'
        ? 'spread'
        : scenario.clientGoPeer && i === scenario.replicas - 1
          ? 'client-go'
          : 'ours';
    scheduler.schedule(starts.uniform(0, START_WITHIN), undefined, 'world', () =>
      cluster.launch(kind, scenario.rates[i]),
    );
  }
  const leaseDuration = TIMINGS.leaseDuration;
  const healBy = scenario.durationMs - 2 * leaseDuration - STOP_ALLOWANCE;
  injector.schedule(
    planFaults(world.random('plan'), {
      leaseDuration,
      from: START_WITHIN + 1000,
      healBy,
    }),
  );
  const tick = () => {
    scheduler.schedule(scheduler.now + CHECK_EVERY, undefined, 'world', tick);
  };
  tick();

  const hooks = {
    beforeTask: () => checker.check(),
    afterTask: () => checker.check(),
    stop: () => checker.failed,
  };
  await scheduler.run(scenario.durationMs, hooks);
  // A late restart moves the end: the run lasts until the liveness window after the last fault.
  const healedAt = checker.healedAt;
  if (!checker.failed && healedAt !== undefined && healedAt + 2 * leaseDuration >= scheduler.now) {
    await scheduler.run(healedAt + 2 * leaseDuration + CHECK_EVERY, hooks);
  }
  if (!checker.failed && healedAt === undefined) {
    checker.fail('leader-after-faults', 'the faults did not all heal by the end of the run');
  }
  return {
    seed: scenario.seed,
    scenario,
    violations: checker.violations,
    trace: trace.lines,
    faults: injector.counts,
    decisions: world.decisions,
    simulatedMs: scheduler.now,
    steps: scheduler.steps,
  };
}

/** The shared state of one run (see SimContext). */
class World implements SimContext {
  readonly scheduler = new Scheduler();
  readonly trace = new Trace(this.scheduler);
  readonly timings = TIMINGS;
  readonly checker: Checker;
  readonly decisions = new Map<string, number>();
  readonly network: Network;
  private readonly leases = new Map<string, SimLease>();
  private readonly root: Random;
  private readonly clocks: Random;

  constructor(
    private readonly scenario: Scenario,
    ignore: readonly InvariantName[],
    readonly once: boolean,
    readonly revisions: boolean,
  ) {
    const { renewDeadline, leaseDuration } = TIMINGS;
    this.checker = new Checker(
      this.scheduler,
      this.trace,
      renewDeadline,
      2 * leaseDuration,
      ignore,
    );
    this.root = new Random(scenario.seed);
    this.clocks = this.root.fork('clocks');
    this.network = new Network(this.scheduler, this.root.fork('network'), REQUEST_TIMEOUT + 1);
  }

  lease(name: string): SimLease {
    let lease = this.leases.get(name);
    if (!lease) {
      lease = new SimLease(name, this.trace, this.scenario.clusterLike);
      this.leases.set(name, lease);
    }
    return lease;
  }

  random(label: string): Random {
    return this.root.fork(label);
  }

  newHost(name: string, rate: number): Host {
    const process = new SimProcess(name);
    // Monotonic clocks start anywhere; wall clocks differ by up to a few minutes.
    const skew = {
      offset: this.clocks.uniform(0, 1e7) - rate * this.scheduler.now,
      rate,
      wallOrigin: Date.UTC(2026, 0, 1) + this.clocks.uniform(-300_000, 300_000),
    };
    return { name, process, clock: new SimClock(this.scheduler, process, skew), link: new Link() };
  }
}

function describeRun(scenario: Scenario, options: RunOptions): string {
  const controls = [
    options.mutant ? `mutant ${options.mutant}` : '',
    options.clockRateBeyond ? 'clock rates beyond the bound' : '',
    options.once ? 'a once cron job' : '',
  ].filter(Boolean);
  const extras = options.revisions ? '; revisions (a new one at every restart)' : '';
  const summary = describeScenario(scenario);
  return (
    (controls.length ? `${summary}; positive control: ${controls.join(', ')}` : summary) + extras
  );
}
