// REPORT.md from the results of one bench run. Every number in the report comes from `results`, from
// the timing profiles or from the code measured (./derived.ts); the explanations are chosen by
// comparing the numbers, never written in advance. One module per section, helpers in ./format.ts.
import { crashSection } from './crash.js';
import { forwardSection } from './forward.js';
import type { Push } from './format.js';
import { gateSection } from './gate.js';
import { handoverSection } from './handover.js';
import { headline } from './headline.js';
import { intro } from './intro.js';
import { loadSection } from './load.js';
import { methodSection } from './method.js';
import { notAheadSection } from './not-ahead.js';
import { peerSection } from './peer.js';
import type { BenchResults } from './results.js';
import { revisionsHandover, revisionsHerd, revisionsRollout } from './revisions.js';
import { rolloutSection } from './rollout.js';
import { scaleSection } from './scale.js';
import { spreadSection, type SpreadSource } from './spread.js';
import { timelineSection } from './timeline.js';

export type { BenchResults } from './results.js';

export function renderReport(
  results: BenchResults,
  paths: {
    json: string;
    svgs: Record<string, string>;
    spread?: SpreadSource;
    peer?: BenchResults;
    forward?: BenchResults;
    /** The series of `--only revisions` that sections 1, 5 and 7 add. */
    revisions?: BenchResults;
  },
): string {
  const out: string[] = [];
  const push: Push = (...lines) => out.push(...lines);
  intro(results, paths, push);
  headline(results, push);
  handoverSection(results, push);
  if (paths.revisions) revisionsHandover(paths.revisions, push);
  crashSection(results, push);
  loadSection(results, push);
  gateSection(results, push);
  scaleSection(results, push);
  if (paths.revisions) revisionsHerd(paths.revisions, push);
  timelineSection(results, paths, push);
  rolloutSection(results, push);
  if (paths.revisions) revisionsRollout(paths.revisions, push);
  if (paths.spread) spreadSection(paths.spread, push);
  if (paths.peer) peerSection(paths.peer, push);
  if (paths.forward) forwardSection(paths.forward, push);
  notAheadSection(results, push);
  methodSection(results, push);
  if (results.failures.length > 0) {
    push(
      '## Failures in this run',
      '',
      ...results.failures.map(
        (f) => `- ${f.scenario}${f.run ? ` run ${f.run}` : ''}: ${f.reason.split('\n')[0]}`,
      ),
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
