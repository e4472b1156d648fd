// The timeline chart: who leads over time across a crash and a graceful shutdown, one row per
// candidate, as a plain SVG string (no charting dependency). Charts of several implementations share
// one time scale so that they can be compared side by side.
import type { TimelineResult } from '../scenarios/timeline.js';

const COLORS: Record<string, string> = { ours: '#2e7d32', 'client-go': '#1565c0' };
const NAMES: Record<string, string> = {
  ours: 'nestjs-kube-leader',
  'client-go': 'client-go leaderelection',
};

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmtMs = (ms: number) =>
  ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(2)} s`;

/** A tick step (ms) giving at most ~12 ticks over `spanMs`. */
function tickStep(spanMs: number): number {
  for (const step of [500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000]) {
    if (spanMs / step <= 12) return step;
  }
  return 120_000;
}

/** Renders one implementation's timeline; `spanMs` fixes the time axis (shared between charts). */
export function renderTimelineSvg(result: TimelineResult, spanMs: number): string {
  const width = 960;
  const left = 120;
  const right = 24;
  const top = 58;
  const rowHeight = 40;
  const barHeight = 18;
  const rows = result.candidates;
  const plotWidth = width - left - right;
  const height = top + rows.length * rowHeight + 78;
  const t0 = result.startedAt;
  const x = (t: number) => left + (Math.min(Math.max(t - t0, 0), spanMs) / spanMs) * plotWidth;
  const rowY = (identity: string) => top + rows.indexOf(identity) * rowHeight;
  const color = COLORS[result.impl] ?? '#555';
  const { leaseDuration, renewDeadline, retryPeriod } = result.profile;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<defs><pattern id="hatch-${result.impl}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9e9e9e" stroke-width="2"/></pattern></defs>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(NAMES[result.impl] ?? result.impl)}: who leads the Lease</text>`,
    `<text x="${left}" y="40" fill="#555">3 candidates; lease ${leaseDuration / 1000} s, renew deadline ${renewDeadline / 1000} s, retry ${retryPeriod / 1000} s; the leader is killed (SIGKILL), then the next one is stopped (SIGTERM)</text>`,
  );

  // Grid and axis.
  const step = tickStep(spanMs);
  const axisY = top + rows.length * rowHeight + 6;
  for (let t = 0; t <= spanMs; t += step) {
    const px = left + (t / spanMs) * plotWidth;
    parts.push(
      `<line x1="${px.toFixed(1)}" y1="${top - 6}" x2="${px.toFixed(1)}" y2="${axisY}" stroke="#eeeeee"/>`,
      `<text x="${px.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${t / 1000}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${axisY}" x2="${left + plotWidth}" y2="${axisY}" stroke="#999"/>`,
    `<text x="${left + plotWidth / 2}" y="${axisY + 36}" text-anchor="middle" fill="#555">seconds since the first candidate started</text>`,
  );

  // Legend.
  const legendY = axisY + 54;
  parts.push(
    `<rect x="${left}" y="${legendY - 10}" width="14" height="12" fill="${color}"/>`,
    `<text x="${left + 20}" y="${legendY}">leads (as the process reports it)</text>`,
    `<rect x="${left + 230}" y="${legendY - 10}" width="14" height="12" fill="url(#hatch-${result.impl})" stroke="#9e9e9e"/>`,
    `<text x="${left + 250}" y="${legendY}">Lease still held by the killed process</text>`,
    `<rect x="${left + 500}" y="${legendY - 10}" width="14" height="12" fill="#e53935" fill-opacity="0.25"/>`,
    `<text x="${left + 520}" y="${legendY}">no leader</text>`,
  );

  // Row labels and baselines.
  for (const identity of rows) {
    const y = rowY(identity);
    parts.push(
      `<text x="${left - 10}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escape(identity)}</text>`,
      `<line x1="${left}" y1="${y + barHeight / 2}" x2="${left + plotWidth}" y2="${y + barHeight / 2}" stroke="#dddddd" stroke-dasharray="2,3"/>`,
    );
  }

  // Leaderless gaps (signal -> next leader), across all rows.
  for (const s of result.signals) {
    const x1 = x(s.at);
    const x2 = Math.max(x(s.nextLeaderAt), x1 + 1);
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${top - 8}" width="${(x2 - x1).toFixed(1)}" height="${rows.length * rowHeight}" fill="#e53935" fill-opacity="0.12"/>`,
    );
  }

  // A killed leader's Lease stays held until it expires.
  for (const s of result.signals.filter((s) => s.signal === 'SIGKILL')) {
    const y = rowY(s.identity);
    const x1 = x(s.at);
    const x2 = x(s.nextLeaderAt);
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y}" width="${Math.max(x2 - x1, 1).toFixed(1)}" height="${barHeight}" fill="url(#hatch-${result.impl})" stroke="#9e9e9e"/>`,
    );
    if (x2 - x1 > 150) {
      parts.push(
        `<text x="${((x1 + x2) / 2).toFixed(1)}" y="${y + barHeight / 2 + 4}" text-anchor="middle" fill="#424242">Lease held by the dead process</text>`,
      );
    }
  }

  // Leadership as each process reported it.
  for (const interval of result.intervals) {
    const y = rowY(interval.identity);
    const x1 = x(interval.start);
    const x2 = x(interval.end);
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y}" width="${Math.max(x2 - x1, 1).toFixed(1)}" height="${barHeight}" rx="2" fill="${color}"><title>${escape(interval.identity)} leads for ${fmtMs(interval.end - interval.start)}</title></rect>`,
    );
    if (x2 - x1 > 60) {
      parts.push(
        `<text x="${(x1 + 6).toFixed(1)}" y="${y + barHeight / 2 + 4}" fill="#ffffff">leader</text>`,
      );
    }
  }

  // Signals and the gap they caused.
  for (const s of result.signals) {
    const px = x(s.at);
    const signalColor = s.signal === 'SIGKILL' ? '#c62828' : '#ef6c00';
    const gap = s.nextLeaderAt - s.at;
    const label = `${s.signal} ${s.identity}: no leader for ${fmtMs(gap)}`;
    const anchorEnd = px > left + plotWidth * 0.6;
    parts.push(
      `<line x1="${px.toFixed(1)}" y1="${top - 12}" x2="${px.toFixed(1)}" y2="${axisY}" stroke="${signalColor}" stroke-width="1.5" stroke-dasharray="4,3"/>`,
      `<text x="${(px + (anchorEnd ? -4 : 4)).toFixed(1)}" y="${rowY(s.identity) + barHeight + 14}" text-anchor="${anchorEnd ? 'end' : 'start'}" fill="${signalColor}" font-weight="bold">${escape(label)}</text>`,
    );
  }

  parts.push('</svg>');
  return parts.join('\n');
}

/** One SVG per result, on a common time scale. */
export function renderTimelines(results: readonly TimelineResult[]): Map<string, string> {
  const spanMs = Math.max(...results.map((r) => r.endedAt - r.startedAt));
  return new Map(results.map((r) => [r.impl, renderTimelineSvg(r, spanMs)]));
}
