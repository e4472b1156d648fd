// client-go's side of an HA run: three candidates of the reference implementation
// (test/interop/client-go-candidate) on a Lease of their own in the run's namespace, with the
// replicas' timings, reaching the API servers through the same balancer. Every fault of the
// control plane hits both elections at once, so their leaderless times and requests compare.
import fs from 'node:fs';
import path from 'node:path';
import type { ControlPlaneState } from '../../control-plane/state.js';
import { startCandidate, type CandidateProcess } from '../../support/candidates.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { LeadershipSpan } from './leaderless.js';

/** The Lease of client-go's election (not a prefix of the replicas' `chaos`). */
export const CLIENT_GO_LEASE = 'cg-chaos';

/** How soon an exited candidate is started again (a container restart, without back-off). */
const RESTART_AFTER_MS = 500;

export class ClientGoPeers {
  /** Every candidate process started, exited ones included (their events make the spans). */
  readonly candidates: CandidateProcess[] = [];
  private readonly current: CandidateProcess[] = [];
  private stopping = false;

  private constructor(
    private readonly state: ControlPlaneState,
    private readonly namespace: string,
    private readonly outDir: string,
  ) {}

  /**
   * Starts `count` candidates. client-go's candidate exits when it stops leading (RunOrDie
   * returns), as a client-go controller does; its pod's container would be restarted, and so is it.
   */
  static start(
    state: ControlPlaneState,
    namespace: string,
    outDir: string,
    count = 3,
  ): ClientGoPeers {
    const peers = new ClientGoPeers(state, namespace, outDir);
    for (let i = 0; i < count; i++) peers.launch(i);
    return peers;
  }

  /** How many times a candidate exited and was started again. */
  get restarts(): number {
    return this.candidates.length - this.current.length;
  }

  private launch(slot: number): void {
    const identity = `cg${slot + 1}`;
    const candidate = startCandidate({
      impl: 'client-go',
      identity,
      kubeconfig: this.state.kubeconfigs.leaseUser,
      namespace: this.namespace,
      lease: CLIENT_GO_LEASE,
      ...CHAOS_TIMINGS,
      clientGoBinary: path.join(path.dirname(this.state.binaries.etcd), 'client-go-candidate'),
    });
    const log = fs.createWriteStream(path.join(this.outDir, `${identity}.log`), { flags: 'a' });
    // Both streams into one file: neither may end it while the other still writes.
    candidate.child.stdout?.pipe(log, { end: false });
    candidate.child.stderr?.pipe(log, { end: false });
    candidate.child.once('close', () => {
      log.end();
      if (!this.stopping) setTimeout(() => !this.stopping && this.launch(slot), RESTART_AFTER_MS);
    });
    this.candidates.push(candidate);
    this.current[slot] = candidate;
  }

  /** Whether one of them reports leading now. */
  get leading(): boolean {
    return this.current.some((c) => c.leading);
  }

  /** Until one reports leading; the time it was first seen, or undefined after `timeoutMs`. */
  async waitForLeader(timeoutMs = 90_000): Promise<number | undefined> {
    const deadline = now() + timeoutMs;
    while (!this.leading) {
      if (now() > deadline) return undefined;
      await sleep(50);
    }
    return now();
  }

  /** Who led when, from their started_leading / stopped_leading / exit lines. */
  spans(): LeadershipSpan[] {
    const spans: LeadershipSpan[] = [];
    for (const candidate of this.candidates) {
      let since: number | undefined;
      for (const e of candidate.events) {
        if (e.event === 'started_leading') since ??= e.at;
        else if ((e.event === 'stopped_leading' || e.event === 'exit') && since !== undefined) {
          spans.push({ id: candidate.identity, start: since, end: e.at });
          since = undefined;
        }
      }
      if (since !== undefined) spans.push({ id: candidate.identity, start: since, end: Infinity });
    }
    return spans;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.current) c.child.kill('SIGTERM');
    await Promise.all(
      this.current.map((c) =>
        Promise.race([c.exited, sleep(10_000).then(() => c.child.kill('SIGKILL'))]),
      ),
    );
  }
}
