// Section 6: who leads over time (the SVG charts).
import { NAME, fmtMs, inWords, profileText, table, type Push } from './format.js';
import type { BenchResults } from './results.js';

export function timelineSection(
  results: BenchResults,
  paths: { svgs: Record<string, string> },
  push: Push,
): void {
  if (results.timeline.length === 0) return;
  const t = results.timeline[0];
  push(
    '## 6. Timeline',
    '',
    `${inWords(t.candidates.length, true)} candidates per implementation, ${t.profile.name} timings (${profileText(t.profile)}): the leader is ` +
      'killed (SIGKILL), then the next leader is stopped (SIGTERM). Bars show who reports leading; the hatched bar ' +
      'is the Lease still held by the killed process; red bands are the time without a leader. Both charts share ' +
      'one time axis. Rendered by `bench/lib/svg.ts`.',
    '',
  );
  for (const r of results.timeline) {
    const file = paths.svgs[r.impl];
    if (file) push(`![Who leads over time: ${NAME[r.impl]}](${file})`, '');
  }
  push(
    table(
      ['implementation', 'signal', 'to', 'next leader after'],
      results.timeline.flatMap((r) =>
        r.signals.map((s) => [NAME[r.impl], s.signal, s.identity, fmtMs(s.nextLeaderAt - s.at)]),
      ),
    ),
    '',
  );
}
