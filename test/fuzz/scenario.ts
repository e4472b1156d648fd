import { DEFAULT_TIMINGS, type ElectionTimings } from '../../lib/core/timing.js';
import { Random } from './random.js';

/** The timings of every simulated elector: the library's defaults, 15 s / 10 s / 2 s. */
export const TIMINGS: ElectionTimings = DEFAULT_TIMINGS;

/**
 * The documented bound on clock rates (docs/reliability.md, Guarantees and limits: "clocks run at the
 * same rate within the margin leaseDuration - renewDeadline over a lease duration"): two clocks may count at most
 * `leaseDuration - renewDeadline` apart over one `leaseDuration`, a relative rate difference of
 * (15 - 10) / 15 = 1/3 at the default timings.
 */
export const RATE_MARGIN = (TIMINGS.leaseDuration - TIMINGS.renewDeadline) / TIMINGS.leaseDuration;

/**
 * Clock rates inside the bound: 1 +- RATE_MARGIN / 4, so two clocks differ by at most half the
 * margin (2.5 s over 15 s); the other half is left to what the bound does not count (network
 * latency, a follower's request that started before the renew it reads).
 */
const INSIDE = RATE_MARGIN / 4;

/** The positive control: rates from 1 - 1.5 x RATE_MARGIN (0.5 at the defaults) to 1. */
const BEYOND = 1.5 * RATE_MARGIN;

/** Simulated time per seed, ms. */
export const DEFAULT_DURATION = 120_000;

/** What one seed simulates, drawn from the seed. */
export interface Scenario {
  readonly seed: number;
  /** One Lease (our electors, maybe a client-go peer), or an election spread over shares. */
  readonly mode: 'single' | 'spread';
  /** Replicas at the start (2 to 7; the spread election 2 to 5). */
  readonly replicas: number;
  /** In single mode: whether the last replica is a client-go peer. */
  readonly clientGoPeer: boolean;
  /** In spread mode: how many shares. */
  readonly shares: number;
  /** Whether creates never say `neverExistedBefore` (as on a real API server). */
  readonly clusterLike: boolean;
  /** Clock rate of each replica's machine (restarts keep their machine's). */
  readonly rates: readonly number[];
  readonly durationMs: number;
}

export interface ScenarioOptions {
  readonly seed: number;
  readonly durationMs?: number;
  /** Mutants replace our electors of the single Lease: their seeds are single-Lease ones. */
  readonly singleOnly?: boolean;
  /** The positive control: clock rates beyond the documented bound. */
  readonly clockRateBeyond?: boolean;
}

export function scenarioFor(options: ScenarioOptions): Scenario {
  const random = new Random(options.seed, 'scenario');
  const mode = options.singleOnly || random.chance(0.6) ? 'single' : 'spread';
  const replicas = mode === 'single' ? random.int(2, 7) : random.int(2, 5);
  const rates = Array.from({ length: 12 }, () =>
    options.clockRateBeyond
      ? random.uniform(1 - BEYOND, 1)
      : random.uniform(1 - INSIDE, 1 + INSIDE),
  );
  return {
    seed: options.seed,
    mode,
    replicas,
    clientGoPeer: mode === 'single' && random.chance(0.35),
    shares: random.int(2, 4),
    clusterLike: random.chance(0.5),
    rates,
    durationMs: options.durationMs ?? DEFAULT_DURATION,
  };
}

/** One line describing a scenario, for reports. */
export function describeScenario(scenario: Scenario): string {
  const kind =
    scenario.mode === 'single'
      ? `single Lease, ${scenario.replicas} replicas${scenario.clientGoPeer ? ' (one a client-go peer)' : ''}`
      : `spread over ${scenario.shares} shares, ${scenario.replicas} replicas`;
  const rates = scenario.rates
    .slice(0, scenario.replicas)
    .map((rate) => rate.toFixed(3))
    .join(' ');
  return `${kind}; ${scenario.clusterLike ? 'cluster-like creates' : 'in-process creates'}; clock rates ${rates}`;
}
