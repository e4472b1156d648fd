// Slow etcd writes without a failpoint build: etcd runs with fsync on in the HA shape, and strace's
// fault injection delays each fdatasync of the given processes (every thread) for a while, then
// detaches. Needs strace (test/prerequisites installs it on Debian) and ptrace rights over etcd.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '../processes.js';

/**
 * Delays every fdatasync of `pids` by `delayMs` for `forMs`; returns how many calls were delayed.
 */
export async function slowEtcdWrites(
  pids: number[],
  delayMs: number,
  forMs: number,
): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-slow-writes-'));
  try {
    const tracers = pids.map((pid, i) => {
      const out = path.join(dir, `${i}.trace`);
      const child = spawn(
        'strace',
        [
          '-qq',
          '-f',
          '-p',
          String(pid),
          '-e',
          'trace=fdatasync',
          '-e',
          `inject=fdatasync:delay_enter=${delayMs * 1000}`,
          '-o',
          out,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<void>((resolve, reject) => {
        child.once('error', (error) =>
          reject(
            new Error(
              `strace is needed for slow etcd writes (apt-get install strace): ${error.message}`,
            ),
          ),
        );
        child.once('exit', (code, signal) =>
          code === 0 || signal
            ? resolve()
            : reject(new Error(`strace -p ${pid} exited ${code}: ${stderr.trim()}`)),
        );
      });
      return { child, exited, out };
    });
    await Promise.race([sleep(forMs), ...tracers.map((t) => t.exited)]);
    for (const t of tracers) t.child.kill('SIGINT'); // detaches; the process runs on
    await Promise.all(tracers.map((t) => t.exited));
    return tracers.reduce((sum, t) => {
      const text = fs.existsSync(t.out) ? fs.readFileSync(t.out, 'utf8') : '';
      return sum + text.split('\n').filter((line) => line.includes('fdatasync(')).length;
    }, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
