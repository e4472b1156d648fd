// Candidate processes (ours and client-go's) on the real control plane, with their JSON-line events.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLineProcess } from './json-lines.js';

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
  /** `codedependant`: the bench's Node peer, started by the bench only (bench/lib/peers.ts). */
  impl: 'ours' | 'client-go' | 'codedependant';
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
export class CandidateProcess extends JsonLineProcess<CandidateEvent> {
  constructor(
    readonly options: CandidateOptions,
    child: ChildProcessWithoutNullStreams,
  ) {
    super(options.identity, child);
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
        path.join(REPO_ROOT, 'test/fixtures/candidate.ts'),
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
  } else if (options.impl === 'codedependant') {
    throw new Error('the codedependant candidate is started by the bench (bench/lib/peers.ts)');
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
