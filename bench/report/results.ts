// The raw results of one bench run (bench/results/<date>.json) and lookups into them.
import type { Failure, Profile } from '../lib/context.js';
import type { FiresResult } from '../scenarios/fires.js';
import type { GateResult } from '../scenarios/gate.js';
import type { GroupLoad, LoadResult } from '../scenarios/load.js';
import type { RolloutResult } from '../scenarios/rollout.js';
import type { SpreadResult } from '../scenarios/spread.js';
import type { CandidatesScale, ElectionsScale } from '../scenarios/scale.js';
import type { PeerResult } from '../scenarios/peer.js';
import type { ForwardResult } from '../scenarios/forward.js';
import type { RevisionsResult } from '../scenarios/revisions.js';
import type { TakeoverKind, TakeoverResult } from '../scenarios/takeover.js';
import type { TimelineResult } from '../scenarios/timeline.js';
import type { Impl } from '../lib/context.js';

export interface BenchResults {
  version: 1;
  mode: 'full' | 'quick';
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: {
    cpuModel: string;
    cores: number;
    memoryGb: number;
    kernel: string;
    node: string;
    go: string;
    kubeApiserver: string;
    etcd: string;
    clientGo: string;
    clientNode: string;
    /** `git rev-parse --short HEAD` at the start (absent in older results). */
    commit?: string;
    loadAverage: { waitedS: number; atStart: number[]; atEnd: number[] };
  };
  takeover: TakeoverResult[];
  load: LoadResult | null;
  gate: GateResult | null;
  scale: { elections: ElectionsScale[]; candidates: CandidatesScale[] };
  timeline: TimelineResult[];
  /** Rolling updates per implementation (absent in results from before the scenario existed). */
  rollout?: RolloutResult[];
  /** The election spread over shares (quick run and `--only spread`; absent before it existed). */
  spread?: SpreadResult | null;
  /** `once` cron jobs against plain ones (`--only fires`; absent before it existed). */
  fires?: FiresResult | null;
  /** The Node peer beside client-go (`--only peer`; absent before it existed). */
  peer?: PeerResult | null;
  /** Forwarding against a client retrying 503s, during rolling updates (`--only forward`). */
  forward?: ForwardResult | null;
  /** Succession by revision (`--only revisions`, merged over runs; absent before it existed). */
  revisions?: RevisionsResult | null;
  failures: Failure[];
}

/** The takeover series of one kind, implementation and timing profile. */
export function series(
  results: BenchResults,
  kind: TakeoverKind,
  impl: Impl,
  profile: Profile['name'],
): TakeoverResult | undefined {
  return results.takeover.find(
    (t) => t.kind === kind && t.impl === impl && t.profile.name === profile,
  );
}

/** A group of the load scenario by label (`ours-3`, `go-10`, ...). */
export function group(load: LoadResult | null, label: string): GroupLoad | undefined {
  return load?.groups.find((g) => g.label === label);
}
