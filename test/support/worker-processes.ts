// Worker processes (test/fixtures/worker-app.ts: a Nest application context with only the election
// module) and their JSON-line events.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './candidates.js';
import { JsonLineProcess, type ProcessExit } from './json-lines.js';

export interface WorkerEvent {
  event: 'started' | 'change' | 'log' | 'closed' | 'exit';
  at: number;
  isLeader?: boolean;
  leader?: string | null;
  share?: number;
  level?: string;
  message?: string;
  /** `closed`: process.getActiveResourcesInfo() right after app.close() resolved, and a turn later. */
  resources?: string[];
  later?: string[];
  code?: number;
}

/** A retry of a failed request, as the election logs it (the first at warn, repeats at debug). */
const RETRY = /\b(acquiring|renewing) \S+ (as \S+: |failed again: )|membership of .* not renewed/;

export class WorkerProcess extends JsonLineProcess<WorkerEvent> {
  /** How it exited, once its output has been read to the end (`exited` may come before). */
  readonly ended: Promise<ProcessExit>;

  constructor(label: string, child: ChildProcess) {
    super(label, child);
    this.ended = new Promise((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** {@link waitFor}, failing at once when the process ends first. */
  async waitWhileRunning(predicate: (e: WorkerEvent) => boolean, timeoutMs: number, since = 0) {
    const endedFirst = this.ended.then((exit) => {
      const past = this.events.slice(since).find(predicate);
      if (past) return past;
      throw new Error(
        `${this.label} ended first (${JSON.stringify(exit)}); events: ${this.tail()}`,
      );
    });
    return Promise.race([this.waitFor(predicate, timeoutMs, since), endedFirst]);
  }

  /** The retries logged from `since` (ms since the epoch) on. */
  retriesSince(since: number): WorkerEvent[] {
    return this.events.filter((e) => e.event === 'log' && e.at >= since && RETRY.test(e.message!));
  }

  /** Resolves 'running' after `ms` unless the process exits first (then with how it exited). */
  async runningAfter(ms: number): Promise<ProcessExit | 'running'> {
    let timer: NodeJS.Timeout | undefined;
    const running = new Promise<'running'>((resolve) => {
      timer = setTimeout(() => resolve('running'), ms);
    });
    const outcome = await Promise.race([this.ended, running]);
    clearTimeout(timer);
    return outcome;
  }

  /**
   * The resources left once the app closed (timers, sockets, servers, requests), without the pipes
   * to this test process and callbacks queued for the current turn of the event loop.
   */
  leftAfterClose(): string[] {
    const closed = this.events.find((e) => e.event === 'closed');
    if (!closed) throw new Error(`${this.label}: the app did not close; events: ${this.tail()}`);
    return closed.later!.filter((resource) => resource !== 'PipeWrap' && resource !== 'Immediate');
  }

  tail(): string {
    return `${JSON.stringify(this.events.slice(-8))}; stderr: ${this.stderr.slice(-8).join('\n')}`;
  }
}

/** Starts a worker; `env` configures it (see the fixture's header). */
export function startWorker(label: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      path.join(REPO_ROOT, 'test/fixtures/worker-app.ts'),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, IDENTITY: label, ...env } },
  );
  return new WorkerProcess(label, child);
}
