// `--only fires`: what `@LeaderOnly({ once: true })` costs against plain `@LeaderOnly()`.
import type { FiresVariant, ReplicaLoad } from '../scenarios/fires.js';
import {
  fmtExact,
  fmtMs,
  fmtNum,
  inWords,
  stat,
  table,
  triple,
  verbs,
  type Push,
} from './format.js';
import type { BenchResults } from './results.js';

/** "10 jobs every minute". */
function schedule(v: FiresVariant): string {
  const jobs = v.jobs === 1 ? 'one job' : `${v.jobs} jobs`;
  return `${jobs} every ${v.period === 60_000 ? 'minute' : v.period === 1_000 ? 'second' : `${v.period} ms`}`;
}

/** "2 min" / "60 s". */
function windowText(v: FiresVariant): string {
  const ms = v.window.to - v.window.from;
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

/** "12 (12; 0, 0)": the total, then the leader's, then each follower's. */
function perReplica(
  v: FiresVariant,
  value: (r: ReplicaLoad) => number | null,
  total?: number,
): string {
  const { leader, followers } = v.requests;
  const all = [leader, ...followers].map(value);
  const sum = all.every((x) => x === null) ? null : all.reduce<number>((a, x) => a + (x ?? 0), 0);
  const others = all.slice(1).map((x) => fmtNum(x));
  return `${fmtNum(total ?? sum)} (${fmtNum(all[0])}; ${others.join(', ') || 'no followers'})`;
}

/** The plain variant on the same schedule as `v`, if the run has one. */
const plainOf = (variants: readonly FiresVariant[], v: FiresVariant) =>
  variants.find((p) => !p.once && p.cron === v.cron && p.jobs === v.jobs);

/** Per `once` variant: extra Lease writes per fire and extra delay (p50) against the plain one. */
function against(variants: readonly FiresVariant[]): string[] {
  return variants.flatMap((v) => {
    const plain = v.once ? plainOf(variants, v) : undefined;
    if (!plain) return [];
    const fires = (x: FiresVariant) => (x.runs.ranOnce + x.runs.ranMoreThanOnce) / minutesOf(x);
    const extraWrites = v.writes.perMinute - plain.writes.perMinute;
    const perFire = fires(v) > 0 ? extraWrites / fires(v) : Number.NaN;
    const delay = (x: FiresVariant) => x.runs.delayMs?.p50 ?? Number.NaN;
    return [
      `- ${schedule(v)}: with \`once\` ${fmtExact(extraWrites)} more Lease writes per minute than ` +
        `without (${fmtExact(v.writes.perMinute)} against ${fmtExact(plain.writes.perMinute)}), ` +
        `${Number.isNaN(perFire) ? 'n/a' : fmtExact(perFire)} per fire run; the median run starts ` +
        `${fmtMs(delay(v) - delay(plain))} later (${fmtMs(delay(v))} against ${fmtMs(delay(plain))}).`,
    ];
  });
}

const minutesOf = (v: FiresVariant) => (v.window.to - v.window.from) / 60_000;

export function firesSection(results: BenchResults, push: Push): void {
  const fires = results.fires;
  if (!fires || fires.variants.length === 0) return;
  const variants = fires.variants;
  push(
    '## Every fire once: what a claim costs',
    '',
    `${inWords(fires.replicas, true)} replicas of a Nest app (an application context with \`ScheduleModule\` and ` +
      '`LeaderElectionModule.forRoot()` at the default timings, a process each, as pods are) on one Lease ' +
      'of the local API server, with `@Cron` jobs (`timeZone: UTC`) that are `@LeaderOnly({ once: true })` ' +
      '(each fire claimed in the Lease before it runs) or plain `@LeaderOnly()`. Each variant runs alone on a ' +
      'Lease of its own. Measured over whole periods, from half a period before an instant (so that the ' +
      'writes around each instant fall inside), after a warm-up fire: the first on the settled leader, ' +
      'usually the first fire the leader runs, shown apart. Requests are counted by the API ' +
      "server (audit log), each replica by its User-Agent (a watch counts once, when it opens); a write is a successful `update`. A run's delay " +
      "is from its fire's scheduled instant to the run's first statement (the process's wall clock).",
    '',
    table(
      [
        'variant',
        'jobs',
        'window',
        'fires: once / twice+ / not run',
        'requests per minute: total (leader; followers)',
        'CPU ms per minute: total (leader; followers)',
        'by verb, in the window',
        'Lease writes per minute',
        'writes per fire',
      ],
      variants.map((v) => [
        `\`${v.label}\``,
        schedule(v),
        windowText(v),
        `${v.runs.ranOnce} / ${v.runs.ranMoreThanOnce} / ${v.runs.notRun} of ${v.runs.fires}`,
        perReplica(v, (r) => r.requestsPerMinute, v.requests.totalPerMinute),
        perReplica(v, (r) => r.cpuMsPerMinute ?? null),
        verbs(v.requests.byVerb),
        fmtNum(v.writes.perMinute),
        v.writes.perFire === null ? 'n/a' : fmtExact(v.writes.perFire),
      ]),
    ),
    '',
    "From the scheduled instant to the run's start; for `once` also the claim, the write as the API server " +
      'saw it (received after the instant; its time in the server):',
    '',
    table(
      [
        'variant',
        'runs',
        'delay p50 / p95 / max',
        'warm-up fire: delay p50 / max',
        'claim received p50 / p95 / max',
        'claim in the server p50 / p95 / max',
      ],
      variants.map((v) => [
        `\`${v.label}\``,
        String(v.runs.delaysMs.length),
        triple(v.runs.delayMs),
        `${fmtMs(stat(v.warmup.delayMs, 'p50'))} / ${fmtMs(stat(v.warmup.delayMs, 'max'))}`,
        v.once
          ? `${triple(v.claims.receivedMs)} (${v.claims.found} writes for ${v.runs.delaysMs.length} runs)`
          : '-',
        v.once ? triple(v.claims.serverMs) : '-',
      ]),
    ),
    '',
    ...against(variants),
    ...variants
      .filter((v) => v.once)
      .map(
        (v) =>
          `- \`${v.label}\` outcomes recorded for the window's fires: ${verbs(v.outcomes)}` +
          `${v.leaderChangesInWindow > 0 ? `; **${v.leaderChangesInWindow} leadership changes in the window**` : ''}.`,
      ),
    `- Load average (1 min) before / after each variant: ${variants
      .map(
        (v) =>
          `\`${v.label}\` ${v.loadAverage.before.toFixed(2)} / ${v.loadAverage.after.toFixed(2)}`,
      )
      .join(', ')}; ${results.machine.cores} cores.`,
    '',
  );
}
