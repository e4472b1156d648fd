// A child process that prints one JSON object per line on stdout, with waiting on its events.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class JsonLineProcess<E extends object> {
  readonly events: E[] = [];
  readonly stderr: string[] = [];
  /** Exit code, or the signal that ended the process. */
  readonly exited: Promise<ProcessExit>;
  private waiters: { predicate: (e: E) => boolean; resolve: (e: E) => void }[] = [];

  constructor(
    /** Names the process in error messages. */
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: E;
      try {
        event = JSON.parse(line) as E;
      } catch {
        return;
      }
      this.events.push(event);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(event)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * Resolves with the first event from index `since` on (past or future) matching `predicate`;
   * rejects after `timeoutMs` with the last events and stderr lines.
   */
  waitFor(predicate: (e: E) => boolean, timeoutMs = 60_000, since = 0): Promise<E> {
    const past = this.events.slice(since).find(predicate);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${this.label}: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-10))}; stderr: ${this.stderr.slice(-10).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const done = (event: E) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ predicate, resolve: done });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within 20 s; resolves with how it exited. */
  async stop(): Promise<ProcessExit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), 20_000);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
