// `npm run test:fuzz`: the deterministic simulation fuzzer. Each seed simulates 2 to 7 replicas on
// in-memory Leases for 120 s under a seeded schedule of faults, checking the invariants at every
// step (see invariants.ts); a failing seed prints its trace and replays exactly.
//
//   npm run test:fuzz                                  # seeds 0..199
//   npm run test:fuzz -- --seeds 10000 --from 0
//   npm run test:fuzz -- --seed 185 --trace            # one seed, its whole trace
//   npm run test:fuzz -- --mutant no-renew-deadline    # a positive control: must be caught
//   npm run test:fuzz -- --clock-rate-beyond           # the other one
//   npm run test:fuzz -- --ignore stop-releases-or-says-why   # look past a known failure
//   npm run test:fuzz -- --revisions                   # replicas know revisions, restarts roll new
//                                                      # ones out: announcements and named successors
//   npm run test:fuzz -- --once                        # replicas also run a `once` cron job:
//                                                      # no fire may start twice (fire-once)
//   npm run test:fuzz -- --seeds 300 --digests > before.txt  # one trace hash per seed: a refactor
//                                                            # that changes no behaviour keeps them
//
// Positive controls (--mutant NAME, --clock-rate-beyond) run until the first failure and exit 0
// when caught, 1 when not; a plain run exits 1 when any seed fails.
import { createHash } from 'node:crypto';
import { INVARIANTS, type InvariantName } from './invariants.js';
import { isMutantName, MUTANTS } from './mutants.js';
import { formatSummary } from './report.js';
import { runSeeds } from './run-seeds.js';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const number = (name: string, fallback: number): number => {
  const text = value(name);
  if (text === undefined) return fallback;
  const parsed = Number(text);
  if (!Number.isInteger(parsed) || parsed < 0) {
    console.error(`--${name} must be a whole number >= 0 (got ${JSON.stringify(text)})`);
    process.exit(2);
  }
  return parsed;
};

const mutant = value('mutant');
if (mutant !== undefined && !isMutantName(mutant)) {
  console.error(
    `--mutant must be one of ${Object.keys(MUTANTS).join(', ')} (got ${JSON.stringify(mutant)})`,
  );
  process.exit(2);
}
const ignore = (value('ignore') ?? '').split(',').filter(Boolean);
const unknown = ignore.filter((name) => !(INVARIANTS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(
    `--ignore takes invariants among ${INVARIANTS.join(', ')} (got ${unknown.join(', ')})`,
  );
  process.exit(2);
}
const clockRateBeyond = args.includes('--clock-rate-beyond');
const control = mutant !== undefined || clockRateBeyond;
const single = value('seed');
const from = single !== undefined ? number('seed', 0) : number('from', 0);
const seeds = single !== undefined ? 1 : number('seeds', control ? 500 : 200);
const traceLines = args.includes('--trace') ? Infinity : number('trace-lines', 40);
const digests = args.includes('--digests');

const summary = await runSeeds({
  from,
  seeds,
  durationMs: value('duration') === undefined ? undefined : number('duration', 120_000),
  mutant,
  clockRateBeyond,
  ignore: ignore as InvariantName[],
  once: args.includes('--once'),
  revisions: args.includes('--revisions'),
  onSeed: (result) => {
    if (digests) {
      const hash = createHash('sha256').update(result.trace.join('\n')).digest('hex');
      console.log(`seed ${result.seed} ${hash.slice(0, 16)} ${result.trace.length} lines`);
    }
    if (single !== undefined && result.violations.length === 0 && args.includes('--trace')) {
      for (const line of result.trace) console.log(line);
    }
    if (!control && result.seed % 100 === 99) {
      process.stderr.write(`  ... seed ${result.seed} done\n`);
    }
  },
});
for (const line of formatSummary(summary, traceLines)) console.log(line);

if (control) {
  const what = mutant ? `mutant ${mutant}` : 'clock rates beyond the bound';
  const caught = summary.failures[0];
  if (summary.failsWithoutControl.length > 0) {
    console.log(
      `\nseeds that fail without the control too (not credited): ${summary.failsWithoutControl.join(' ')}`,
    );
  }
  console.log(
    caught
      ? `\npositive control (${what}): caught at seed ${caught.seed} (${summary.seedsRun} seeds run)`
      : `\npositive control (${what}): NOT caught in ${summary.seedsRun} seeds`,
  );
  process.exit(caught ? 0 : 1);
}
if (summary.failures.length > 0) {
  console.log(`\nfailing seeds: ${summary.failures.map((f) => f.seed).join(' ')}`);
  process.exit(1);
}
