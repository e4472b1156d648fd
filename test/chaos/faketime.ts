// A replica's clock under Debian's libfaketime (package `faketime`), for the clock-* faults.
//
// What was measured on Node 20 (probe: `node --import @swc-node/register/esm-register
// test/chaos/faketime.ts`, which runs the same checks as below and prints them):
//
// - libfaketime is loaded with LD_PRELOAD and intercepts clock_gettime/gettimeofday, which Node uses
//   for Date.now() (CLOCK_REALTIME) and for performance.now(), process.hrtime() and libuv's loop
//   time (CLOCK_MONOTONIC). The multi-threaded build (libfaketimeMT.so.1) is used: Node has threads.
// - WALL CLOCK ONLY (frozen, stepped): FAKETIME_DONT_FAKE_MONOTONIC=1 leaves performance.now() and
//   the timers alone. The spec is read from FAKETIME_TIMESTAMP_FILE; with FAKETIME_NO_CACHE=1 it is
//   re-read on every clock read, so rewriting the file changes a running process's wall clock at
//   once: "+0" real time, "YYYY-MM-DD hh:mm:ss" (UTC with TZ=UTC) a clock stopped at that second,
//   "-30" thirty seconds behind and running. The file is replaced atomically (rename): a reader
//   must never see it empty. Cost: Date.now() takes ~8 us instead of ~0.3 us (a file read per
//   call); performance.now() is unaffected. performance.timeOrigin is fixed at start-up (under
//   "+0", so real), hence the replica's event times (timeOrigin + performance.now()) stay real.
// - RATE ("+0 x0.5", monotonic faked): Date.now(), performance.now() and process.hrtime() all run
//   at the rate, counted from the process start, AND the timers follow: setTimeout(500) fires after
//   1000 ms of real time at x0.5 (libuv computes timer expiry from CLOCK_MONOTONIC, and libfaketime
//   also scales the timeouts of epoll_wait/poll by the rate). So the whole process lives at that
//   rate, which is what a slow clock means: the engine's renew deadline (performance.now())
//   stretches to renewDeadline / rate of real time. Measured: 3000 faked ms took 3.33 s at x0.9,
//   6.0 s at x0.5, 1.5 s at x2. Its event times are NOT real: the harness stamps them on arrival.
// - Pitfall: with DONT_FAKE_MONOTONIC and a rate, the timeouts are still scaled while
//   performance.now() is not: timers fire 1/rate late by the process's own monotonic clock. Not a
//   clock skew, so not used.
// - The rate cannot be changed smoothly in a running process (FAKETIME_XRESET is experimental), so
//   a rate-skewed replica runs at its rate from start to exit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The preload library, or undefined when Debian's `faketime` package is not installed. */
export function faketimeLibrary(): string | undefined {
  const candidates = [process.env.FAKETIME_LIB ?? ''];
  for (const root of ['/usr/lib', '/usr/local/lib', '/usr/lib64']) {
    candidates.push(path.join(root, 'faketime', 'libfaketimeMT.so.1'));
    try {
      for (const dir of fs.readdirSync(root))
        candidates.push(path.join(root, dir, 'faketime', 'libfaketimeMT.so.1'));
    } catch {
      // no such root
    }
  }
  return candidates.find((file) => file && fs.existsSync(file));
}

export function requireFaketime(): string {
  const library = faketimeLibrary();
  if (!library)
    throw new Error(
      'the clock-* faults need libfaketime: apt-get install faketime (Debian), or set FAKETIME_LIB',
    );
  return library;
}

/** How a replica's clock is faked. */
export type FakeClock =
  /** Wall clock only, changed at run time through a file (see {@link WallClockControl}). */
  | { kind: 'wall'; file: string }
  /** Every clock of the process, timers included, runs at `rate` x real time from its start. */
  | { kind: 'rate'; rate: number };

/** Environment for a replica process under libfaketime (removes any inherited FAKETIME*). */
export function faketimeEnv(
  base: NodeJS.ProcessEnv,
  clock: FakeClock,
  library = requireFaketime(),
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base))
    if (!key.startsWith('FAKETIME')) env[key] = value;
  env.LD_PRELOAD = library;
  env.TZ = 'UTC';
  if (clock.kind === 'wall') {
    writeAtomically(clock.file, '+0\n');
    env.FAKETIME_TIMESTAMP_FILE = clock.file;
    env.FAKETIME_NO_CACHE = '1';
    env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
  } else {
    env.FAKETIME = `+0 x${clock.rate}`;
  }
  return env;
}

/** Changes the wall clock of a running replica started with a `wall` {@link FakeClock}. */
export class WallClockControl {
  constructor(readonly file: string) {}

  /** Stops the clock at the current second (call just after a second boundary: no visible jump). */
  freeze(at = new Date()): void {
    const s = at.toISOString();
    writeAtomically(this.file, `${s.slice(0, 10)} ${s.slice(11, 19)}\n`);
  }

  /** The clock runs, `seconds` behind real time. */
  stepBack(seconds: number): void {
    writeAtomically(this.file, `-${seconds}\n`);
  }

  /** Real time again. */
  restore(): void {
    writeAtomically(this.file, '+0\n');
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Milliseconds until the next whole second of the wall clock. */
export function msToNextSecond(): number {
  return 1000 - (Date.now() % 1000);
}

/** The probe: run this file to check what libfaketime does to a Node process on this machine. */
async function probe(): Promise<void> {
  const library = requireFaketime();
  const dir = fs.mkdtempSync('/tmp/faketime-probe-');
  const script = path.join(dir, 'clocks.mjs');
  // Prints, every 250 ms of setTimeout, the elapsed wall and monotonic ms since its start.
  fs.writeFileSync(
    script,
    `const d0 = Date.now(), p0 = performance.now();
let n = 0;
const tick = () => {
  console.log(JSON.stringify({ n, wall: Date.now() - d0, mono: Math.round(performance.now() - p0) }));
  if (++n < 12) setTimeout(tick, 250);
};
setTimeout(tick, 250);\n`,
  );
  const run = (label: string, env: NodeJS.ProcessEnv, during?: () => void) => {
    const started = performance.now();
    if (during) setTimeout(during, 0);
    const out = execFileSync(process.execPath, [script], { env, encoding: 'utf8' });
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, number>);
    const last = lines[lines.length - 1];
    process.stdout.write(
      `${label}: 3000 ms of setTimeout took ${Math.round(performance.now() - started)} ms real (incl. start-up); ` +
        `wall ${last.wall} ms, monotonic ${last.mono} ms as the process saw them\n`,
    );
    return lines;
  };
  run('no faketime', process.env);
  for (const rate of [0.9, 0.5, 2])
    run(`rate x${rate}`, faketimeEnv(process.env, { kind: 'rate', rate }, library));
  // Wall clock changed while running: sync execFileSync blocks this process, so the changes are
  // made by a shell in the background.
  const file = path.join(dir, 'clock');
  const env = faketimeEnv(process.env, { kind: 'wall', file }, library);
  const frozen = new Date(Date.now() + 700).toISOString();
  const shell = `sleep 0.7; printf '%s\\n' '${frozen.slice(0, 10)} ${frozen.slice(11, 19)}' > ${file}.t && mv ${file}.t ${file}; sleep 1; echo -30 > ${file}.t && mv ${file}.t ${file}; sleep 1; echo +0 > ${file}.t && mv ${file}.t ${file}`;
  const background = (await import('node:child_process')).spawn('sh', ['-c', shell], {
    stdio: 'ignore',
  });
  const lines = run('wall clock +0, frozen at 0.7 s, -30 s at 1.7 s, +0 at 2.7 s', env);
  for (const line of lines) process.stdout.write(`  ${JSON.stringify(line)}\n`);
  background.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('faketime.ts')) {
  probe().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
