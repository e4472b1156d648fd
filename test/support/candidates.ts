// Candidate processes (ours and client-go's) on the real control plane, with their JSON-line events.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../..');

export interface CandidateEvent {
  event: 'ready' | 'new_leader' | 'started_leading' | 'stopped_leading' | 'exit' | 'log';
  identity: string;
  leader?: string;
  at: number;
  impl: string;
  level?: string;
  message?: string;
  fencingToken?: number;
}

export interface CandidateOptions {
  impl: 'ours' | 'client-go';
  identity: string;
  kubeconfig: string;
  namespace: string;
  lease: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
  /** Path of the client-go candidate binary (impl 'client-go'). */
  clientGoBinary?: string;
}

/** A running candidate process. */
export class CandidateProcess {
  readonly events: CandidateEvent[] = [];
  readonly stderr: string[] = [];
  private waiters: {
    predicate: (e: CandidateEvent) => boolean;
    resolve: (e: CandidateEvent) => void;
  }[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly options: CandidateOptions,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let event: CandidateEvent;
      try {
        event = JSON.parse(line) as CandidateEvent;
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
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Whether this candidate currently reports leading (started without a later stop). */
  get leading(): boolean {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i].event;
      if (e === 'started_leading') return true;
      if (e === 'stopped_leading' || e === 'exit') return false;
    }
    return false;
  }

  /** Resolves with the first event (past or future) matching `predicate`. */
  waitFor(
    predicate: (e: CandidateEvent) => boolean,
    timeoutMs = 60_000,
    since = 0,
  ): Promise<CandidateEvent> {
    const past = this.events.slice(since).find(predicate);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${this.identity}: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-10))}; stderr: ${this.stderr.slice(-10).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const done = (event: CandidateEvent) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ predicate, resolve: done });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export function startCandidate(options: CandidateOptions): CandidateProcess {
  const leaseDuration = options.leaseDuration ?? 15_000;
  const renewDeadline = options.renewDeadline ?? 10_000;
  const retryPeriod = options.retryPeriod ?? 2_000;
  let child: ChildProcessWithoutNullStreams;
  if (options.impl === 'ours') {
    child = spawn(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        path.join(REPO_ROOT, 'test/fixtures/elector-process.ts'),
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          KUBECONFIG: options.kubeconfig,
          NAMESPACE: options.namespace,
          LEASE: options.lease,
          IDENTITY: options.identity,
          LEASE_DURATION_MS: String(leaseDuration),
          RENEW_DEADLINE_MS: String(renewDeadline),
          RETRY_PERIOD_MS: String(retryPeriod),
        },
      },
    );
  } else {
    if (!options.clientGoBinary)
      throw new Error('clientGoBinary is required for the client-go candidate');
    child = spawn(options.clientGoBinary, [
      `--kubeconfig=${options.kubeconfig}`,
      `--namespace=${options.namespace}`,
      `--lease=${options.lease}`,
      `--identity=${options.identity}`,
      `--lease-duration=${leaseDuration}ms`,
      `--renew-deadline=${renewDeadline}ms`,
      `--retry-period=${retryPeriod}ms`,
    ]);
  }
  return new CandidateProcess(options, child);
}
