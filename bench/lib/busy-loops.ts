// A loaded machine for the series that ask for one: a busy loop per core (`node -e "for(;;);"`),
// started by the bench and killed after the series, also when the bench exits early.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

/** Busy loops still running, killed at exit whatever happens (see below). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `count` busy loops (default: one per core); returns the function that kills them. */
export function startBusyLoops(count = os.cpus().length): () => Promise<void> {
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' });
    running.add(child);
    return child;
  });
  return async () => {
    await Promise.all(
      children.map(async (child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        running.delete(child);
      }),
    );
  };
}

/** Runs `body` with the machine loaded by busy loops when `loaded`, else as it is. */
export async function maybeLoaded<T>(loaded: boolean, body: () => Promise<T>): Promise<T> {
  if (!loaded) return body();
  const stop = startBusyLoops();
  try {
    return await body();
  } finally {
    await stop();
  }
}
