import type { Random } from './random.js';

/** Every kind of fault the schedule injects. */
export type FaultKind =
  | 'pause'
  | 'partition'
  | 'one-way-partition'
  | 'watch-black-hole'
  | 'watch-delay'
  | 'watch-burst'
  | 'watch-close'
  | 'compaction'
  | 'delete'
  | 'edit'
  | 'slow-requests'
  | 'slow-answers'
  | 'lost-answers'
  | 'api-errors'
  | 'stop-restart'
  | 'kill-restart'
  | 'step-down'
  | 'confirmed-run'
  | 'join'
  | 'leave'
  | 'rolling-update';

/** How often each kind is drawn, relative to the others. */
const WEIGHTS: Readonly<Record<FaultKind, number>> = {
  pause: 10,
  partition: 10,
  'one-way-partition': 8,
  'watch-black-hole': 4,
  'watch-delay': 5,
  'watch-burst': 7,
  'watch-close': 4,
  compaction: 3,
  delete: 9,
  edit: 5,
  'slow-requests': 5,
  'slow-answers': 5,
  'lost-answers': 5,
  'api-errors': 8,
  'stop-restart': 9,
  'kill-restart': 5,
  'step-down': 7,
  'confirmed-run': 6,
  join: 5,
  leave: 4,
  'rolling-update': 4,
};

/** A fault of the schedule: its kind, when it starts, how long it lasts (0: a single action). */
export interface PlannedFault {
  readonly at: number;
  readonly kind: FaultKind;
  readonly duration: number;
}

export interface FaultPlanOptions {
  readonly leaseDuration: number;
  /** No fault before this time, ms (the replicas start). */
  readonly from: number;
  /** Every fault ends by this time, ms. */
  readonly healBy: number;
}

/**
 * The seeded fault schedule of one run: 6 to 20 faults, most of them in one to three storms,
 * overlapping freely, each ending by `healBy`. Which replica a fault hits is decided when it starts
 * (often the leader or the holder of the moment: see FaultInjector).
 */
export function planFaults(random: Random, options: FaultPlanOptions): PlannedFault[] {
  const { from, healBy } = options;
  // Faults come in storms (a bad minute of a cluster): the coincidences that break an election
  // take several faults within seconds of each other.
  const storms = Array.from({ length: random.int(1, 3) }, () => random.uniform(from, healBy));
  const faults: PlannedFault[] = [];
  const count = random.int(6, 20);
  for (let i = 0; i < count; i += 1) {
    const kind = random.weighted(WEIGHTS);
    const duration = Math.min(durationOf(kind, random, options.leaseDuration), healBy - from);
    const center = random.chance(0.7) ? random.pick(storms) : undefined;
    const wanted =
      center === undefined ? random.uniform(from, healBy) : center + random.uniform(-8000, 8000);
    const at = Math.min(Math.max(wanted, from), healBy - duration);
    faults.push({ at, kind, duration });
  }
  return faults.sort((a, b) => a.at - b.at);
}

function durationOf(kind: FaultKind, random: Random, leaseDuration: number): number {
  switch (kind) {
    case 'pause': {
      // Short, around the renew deadline and the lease duration, or long: up to 2 x the lease.
      const band = random.next();
      if (band < 0.3) return random.uniform(200, 3000);
      if (band < 0.7) return random.uniform(0.5 * leaseDuration, 1.2 * leaseDuration);
      return random.uniform(1.2 * leaseDuration, 2 * leaseDuration);
    }
    case 'partition':
    case 'one-way-partition':
      return random.uniform(1000, 25_000);
    case 'watch-delay':
    case 'slow-requests':
    case 'slow-answers':
    case 'lost-answers':
      return random.uniform(2000, 20_000);
    case 'watch-burst':
      return random.uniform(2000, 25_000);
    case 'api-errors':
      return random.uniform(1000, 15_000);
    case 'stop-restart':
      return random.uniform(500, 10_000);
    case 'kill-restart':
      return random.uniform(500, 20_000);
    case 'rolling-update':
      // The time it may take: each replica in turn is replaced until it is used up.
      return random.uniform(5000, 30_000);
    case 'watch-black-hole':
    case 'watch-close':
    case 'compaction':
    case 'delete':
    case 'edit':
    case 'step-down':
    case 'confirmed-run':
    case 'join':
    case 'leave':
      return 0;
  }
}
