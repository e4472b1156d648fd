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

export class ClientGoPeers {
  private constructor(readonly candidates: CandidateProcess[]) {}

  static start(
    state: ControlPlaneState,
    namespace: string,
    outDir: string,
    count = 3,
  ): ClientGoPeers {
    const binary = path.join(path.dirname(state.binaries.etcd), 'client-go-candidate');
    const candidates = Array.from({ length: count }, (_, i) =>
      startCandidate({
        impl: 'client-go',
        identity: `cg${i + 1}`,
        kubeconfig: state.kubeconfigs.leaseUser,
        namespace,
        lease: CLIENT_GO_LEASE,
        ...CHAOS_TIMINGS,
        clientGoBinary: binary,
      }),
    );
    for (const candidate of candidates) {
      const log = fs.createWriteStream(path.join(outDir, `${candidate.identity}.log`));
      // Both streams into one file: neither may end it while the other still writes.
      candidate.child.stdout?.pipe(log, { end: false });
      candidate.child.stderr?.pipe(log, { end: false });
      candidate.child.once('close', () => log.end());
    }
    return new ClientGoPeers(candidates);
  }

  /** Whether one of them reports leading now. */
  get leading(): boolean {
    return this.candidates.some((c) => c.leading);
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
    for (const c of this.candidates) c.child.kill('SIGTERM');
    await Promise.all(
      this.candidates.map((c) =>
        Promise.race([c.exited, sleep(10_000).then(() => c.child.kill('SIGKILL'))]),
      ),
    );
  }
}
