// Formatting helpers of REPORT.md: durations, rates, counts, tables. No numbers of their own.
import type { Impl, Profile } from '../lib/context.js';
import type { Summary } from '../lib/stats.js';

/** Appends lines to the report. */
export type Push = (...lines: string[]) => void;

export const NAME: Record<Impl, string> = {
  ours: 'ours',
  'client-go': 'client-go',
  codedependant: '@codedependant/kubernetes-leader-election',
};

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return 'n/a';
  if (Math.abs(ms) < 10) return `${ms.toFixed(1)} ms`;
  if (Math.abs(ms) < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(2)} s`;
}

export const fmtNs = (ns: number) =>
  ns < 1_000 ? `${Math.round(ns)} ns` : `${(ns / 1_000).toFixed(2)} µs`;

export const fmtRate = (perSecond: number) =>
  perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(1)} M/s`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)} k/s`
      : `${perSecond.toFixed(0)}/s`;

export const fmtNum = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits).replace(/\.0+$/, '');

/** A derived figure with at most two decimals and no trailing zeros: 18.75, 1.6, 2. */
export const fmtExact = (x: number) => String(Number(x.toFixed(2)));

/** Milliseconds as seconds with at most two decimals and no trailing zeros: "2 s", "0.5 s". */
export const fmtSeconds = (ms: number) => `${fmtExact(ms / 1000)} s`;

const WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
];

/** A small count in words ("two"), larger ones in digits; `capital` for the start of a sentence. */
export function inWords(n: number, capital = false): string {
  const word = Number.isInteger(n) && n >= 0 && n < WORDS.length ? WORDS[n] : String(n);
  return capital ? word[0].toUpperCase() + word.slice(1) : word;
}

export const verbs = (counts: Record<string, number>) =>
  Object.keys(counts).length === 0
    ? 'none'
    : Object.entries(counts)
        .sort()
        .map(([verb, n]) => `${verb} ${n}`)
        .join(', ');

/** "15 s / 10 s / 2 s": lease duration / renew deadline / retry period. */
export const profileText = (p: Profile) =>
  `${p.leaseDuration / 1000} s / ${p.renewDeadline / 1000} s / ${p.retryPeriod / 1000} s`;

export const yesNo = (met: boolean | null) => (met === null ? 'n/a' : met ? 'yes' : '**no**');

/** "12x faster" / "2.1x fewer": how many times `theirs` is `ours`. */
export function times(
  ours: number | null | undefined,
  theirs: number | null | undefined,
  word: string,
): string {
  if (ours === null || ours === undefined || theirs === null || theirs === undefined) return 'n/a';
  if (ours <= 0) return theirs > 0 ? `${word} (ours 0)` : 'equal';
  const ratio = theirs / ours;
  if (ratio >= 1) return `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}x ${word}`;
  return `${(1 / ratio).toFixed(1)}x **worse**`;
}

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export const stat = (s: Summary | null | undefined, key: keyof Summary): number | null =>
  s?.[key] ?? null;

/** "p50 / p95 / max" of a summary. */
export const triple = (s: Summary | null) =>
  `${fmtMs(stat(s, 'p50'))} / ${fmtMs(stat(s, 'p95'))} / ${fmtMs(stat(s, 'max'))}`;

export function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
