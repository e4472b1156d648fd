// Section 9: every comparison where ours is not ahead (or misses a target), with the reason.
import { HANDOVER_BURST_MS, TARGETS, pollInterval } from './derived.js';
import { fmtExact, fmtMs, fmtNs, fmtNum, fmtSeconds, mean, median, stat } from './format.js';
import { group, series, type BenchResults } from './results.js';
import { rolloutNotAhead } from './rollout.js';

export function whereNotAhead(results: BenchResults): string[] {
  const lines: string[] = [];
  const load = results.load;
  const o3 = group(load, 'ours-3');
  const g3 = group(load, 'go-3');
  const followerMean = (label: string, key: 'rssMb' | 'cpuPercent') => {
    const g = group(load, label);
    return g ? mean(g.followers.map((f) => f[key] ?? 0)) : Number.NaN;
  };
  if (followerMean('ours-3', 'rssMb') > followerMean('go-3', 'rssMb')) {
    lines.push(
      `**Memory per candidate process**: an idle follower of ours takes ${fmtNum(followerMean('ours-3', 'rssMb'), 0)} MB ` +
        `RSS, a client-go follower ${fmtNum(followerMean('go-3', 'rssMb'), 0)} MB. This is the Node.js runtime with ` +
        '@kubernetes/client-node loaded, not the election; in a real deployment the election lives in the Nest ' +
        'app, which pays for the runtime anyway.',
    );
  }
  if (followerMean('ours-3', 'cpuPercent') > followerMean('go-3', 'cpuPercent')) {
    lines.push(
      `**CPU of an idle follower**: ours ${fmtNum(followerMean('ours-3', 'cpuPercent'), 2)} %, client-go ` +
        `${fmtNum(followerMean('go-3', 'cpuPercent'), 2)} % of one core, although ours sends no requests: the Node ` +
        "runtime's own background work costs more than a Go program polling every few seconds. Both are negligible.",
    );
  }
  if (o3 && g3 && (o3.leader.cpuPercent ?? 0) > (g3.leader.cpuPercent ?? 0)) {
    lines.push(
      `**CPU of the leader**: ours ${fmtNum(o3.leader.cpuPercent, 2)} %, client-go ${fmtNum(g3.leader.cpuPercent, 2)} % ` +
        `of one core for the same ${fmtNum(o3.leader.requestsPerMinute, 0)} renewals per minute: a request through ` +
        '@kubernetes/client-node (generated client, middleware, JSON, all in JavaScript) costs more CPU than one ' +
        'through client-go. Both are a fraction of a percent per Lease; section 5 shows it at many Leases.',
    );
  }
  const slowCrash = (['default', 'fast'] as const).flatMap((profile) => {
    const o = series(results, 'crash', 'ours', profile);
    const g = series(results, 'crash', 'client-go', profile);
    if (!o || !g) return [];
    const ratio = (stat(g.takeoverMs, 'p50') ?? 0) / (stat(o.takeoverMs, 'p50') ?? 1);
    return ratio < TARGETS.crashSpeedup ? [{ profile, o, g, ratio }] : [];
  });
  if (slowCrash.length > 0) {
    lines.push(
      '**Crash failover measured from the SIGKILL**: ' +
        slowCrash
          .map(
            ({ profile, o, g, ratio }) =>
              `p50 ${fmtMs(stat(o.takeoverMs, 'p50'))} vs ${fmtMs(stat(g.takeoverMs, 'p50'))} at the ${profile} timings ` +
              `(${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : 'not faster'}; excess over the lease duration p95 ` +
              `${fmtMs(stat(o.beyondLeaseDurationMs, 'p95'))} vs ${fmtMs(stat(g.beyondLeaseDurationMs, 'p95'))})`,
          )
          .join(', ') +
        '. After a crash nobody may take over before the Lease expires (that is what keeps two leaders apart), ' +
        "so both wait about one lease duration after the last renew; we save only client-go's polling delay on " +
        'top of it. A shorter lease duration is the only lever, for both.',
    );
  }
  const oc = results.scale.candidates.find((c) => c.impl === 'ours');
  const gc = results.scale.candidates.find((c) => c.impl === 'client-go');
  if (oc && gc && oc.handovers.length > 0 && gc.handovers.length > 0) {
    const poll = pollInterval(gc.profile);
    const oursMs = median(oc.handovers.map((h) => h.handoverMs));
    const theirsMs = median(gc.handovers.map((h) => h.handoverMs));
    const small = series(results, 'graceful', 'ours', 'default');
    const burst = mean(oc.handovers.map((h) => h.requestsAfter));
    const conflicts = mean(oc.handovers.map((h) => h.requests?.conflicts ?? h.conflicts));
    if (oursMs >= theirsMs) {
      lines.push(
        `**Graceful handover with ${oc.candidates} candidates**: median ${fmtMs(oursMs)} for ours against ` +
          `${fmtMs(theirsMs)} for client-go (${oc.handovers.length} handovers each), so not faster at this size. ` +
          `With ${gc.candidates - 1} followers each polling every ${fmtExact(poll.min / 1000)} to ` +
          `${fmtExact(poll.max / 1000)} s, one of client-go's polls falls within ` +
          'tens of milliseconds of the release. All of ours see the release at once and each waits a random ' +
          'takeover delay first (spread over up to 30 ms, so that only a few try ' +
          `before the winner's write reaches the others; ${fmtNum(conflicts, 1)} conflicts per handover here)` +
          (small
            ? `; with 3 candidates the same handover takes ${fmtMs(stat(small.takeoverMs, 'p50'))} at the median`
            : '') +
          '.',
      );
    }
    const herd = oc.handovers.map((h) => (h.requests ? h.requests.total - 1 : 0));
    if (Math.max(...herd) > TARGETS.herdRequests) {
      lines.push(
        `**Requests of the followers per handover with ${oc.candidates} candidates**: ${herd.join(', ')} in the ` +
          `${oc.handovers.length} handovers in order (median ${fmtNum(median(herd), 0)}; goal at most ` +
          `${TARGETS.herdRequests}; before the takeover delay every follower tried at once, with an update and a read after its 409). Each follower waits a random ` +
          "delay of up to 30 ms, spread so that only the first one or two try before the first one's write reaches " +
          "the others' watches; the ones above the goal are the first handovers after start, when the candidate " +
          `processes (${oc.candidates / oc.processes} candidates each, all on ${results.machine.cores} cores with the API server) ` +
          "run the takeover path for the first time and deliver the winner's record to their watches late. Each " +
          'follower sends at most one update per handover and no read.',
      );
    }
    if (burst >= mean(gc.handovers.map((h) => h.requestsAfter))) {
      lines.push(
        `**Request burst at a handover with ${oc.candidates} candidates**: ours sends ${fmtNum(burst, 0)} requests in the ` +
          `${fmtSeconds(HANDOVER_BURST_MS)} after a release (${fmtNum(mean(oc.handovers.map((h) => h.conflicts)), 0)} of them answered 409 Conflict). ` +
          `client-go's ${fmtNum(mean(gc.handovers.map((h) => h.requestsAfter)), 0)} requests in the same ` +
          `${fmtSeconds(HANDOVER_BURST_MS)} are just its ordinary polling ` +
          `(${fmtNum(gc.requestsPerMinute.total, 0)} per minute in steady state against our ${fmtNum(oc.requestsPerMinute.total, 0)}).`,
      );
    }
  }
  const oe = results.scale.elections.find((e) => e.impl === 'ours');
  const ge = results.scale.elections.find((e) => e.impl === 'client-go');
  if (oe && ge) {
    if (oe.leaderProcess.cpuPercent > ge.leaderProcess.cpuPercent) {
      lines.push(
        `**CPU of a process leading ${oe.elections} elections**: ours ${fmtNum(oe.leaderProcess.cpuPercent, 1)} %, ` +
          `client-go ${fmtNum(ge.leaderProcess.cpuPercent, 1)} % of one core, for ` +
          `${fmtNum(oe.leaderProcess.requestsPerMinute, 0)} vs ${fmtNum(ge.leaderProcess.requestsPerMinute, 0)} ` +
          'renewals per minute: the per-request cost of the JavaScript client stack, times the number of Leases. ' +
          `The follower process is where we are ahead: ours sent ${fmtNum(oe.followerProcess.requestsPerMinute, 0)} ` +
          `requests per minute for ${oe.elections} Leases (${fmtNum(oe.followerProcess.cpuPercent, 1)} % CPU), client-go's ` +
          `${fmtNum(ge.followerProcess.requestsPerMinute, 0)} (${fmtNum(ge.followerProcess.cpuPercent, 1)} % CPU).`,
      );
    }
    if (oe.leaderProcess.rssMb > ge.leaderProcess.rssMb) {
      lines.push(
        `**Memory of a process with ${oe.elections} elections**: ours ${fmtNum(oe.leaderProcess.rssMb, 0)} MB (leader) / ` +
          `${fmtNum(oe.followerProcess.rssMb, 0)} MB (follower, ${oe.elections} open watches), client-go ` +
          `${fmtNum(ge.leaderProcess.rssMb, 0)} / ${fmtNum(ge.followerProcess.rssMb, 0)} MB: mostly the Node runtime, ` +
          'as above.',
      );
    }
  }
  const gate = results.gate;
  if (gate && gate.follower.sync.overheadNs > TARGETS.followerSkipNs) {
    const b = gate.followerBreakdown;
    const target = TARGETS.gateOverheadNs;
    lines.push(
      `**The gate on a follower** costs ${fmtNs(gate.follower.sync.overheadNs)} per skipped call (sync), more than on ` +
        `the leader (${fmtNs(gate.leader.sync.overheadNs)})` +
        `${gate.follower.sync.overheadNs >= target ? `, above the ${fmtExact(target / 1000)} µs target` : ''}. ` +
        "The skip path logs at debug level through Nest's `Logger` " +
        `(${fmtNs(b.disabledDebugLogNs)} even with logging off) and reads the leader (${fmtNs(b.getLeaderNs)}); ` +
        'whether the method is a request handler is looked up once per class and method and cached. A follower ' +
        'skips one call per schedule tick, so this does not matter in practice; not calling the logger when ' +
        "debug logging is off would bring it close to the leader's cost.",
    );
  }
  for (const profile of ['default', 'fast'] as const) {
    const o = series(results, 'graceful', 'ours', profile);
    if (o && (stat(o.takeoverMs, 'p95') ?? 0) >= TARGETS.gracefulP95Ms) {
      lines.push(
        `**Graceful handover p95 at the ${profile} timings is ${fmtMs(stat(o.takeoverMs, 'p95'))}**, above the ` +
          `${fmtMs(TARGETS.gracefulP95Ms)} ` +
          `target (max ${fmtMs(stat(o.takeoverMs, 'max'))}); the individual runs are in the raw data.`,
      );
    }
    const c = series(results, 'crash', 'ours', profile);
    if (
      c &&
      (stat(c.fromLastRenewMs, 'max') ?? 0) > c.profile.leaseDuration + TARGETS.crashSlackMs
    ) {
      lines.push(
        `**Crash failover at the ${profile} timings exceeded lease duration + ${fmtMs(TARGETS.crashSlackMs)}** in some ` +
          'runs (max ' +
          `${fmtMs(stat(c.fromLastRenewMs, 'max'))} after the last renew, lease ${fmtMs(c.profile.leaseDuration)}); ` +
          'the individual runs are in the raw data.',
      );
    }
  }
  lines.push(...rolloutNotAhead(results));
  return lines;
}
