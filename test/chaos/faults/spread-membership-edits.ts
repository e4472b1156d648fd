// Faults of the membership Lease of an election spread over shares (spread runs only): entries
// forged into it by an administrator, and replicas with another `shares` option side by side (a
// rollout that changes it).
import { membersLeaseName } from '../../../lib/core/spread/shares.js';
import { MEMBERS_ANNOTATION } from '../../../lib/kubernetes/lease-annotations.js';
import { intervalsByJob, overlapWithin, workIntervals } from '../checker.js';
import { handedOver, handoverOf, movedJobs } from '../spread.js';
import type { ChaosRun } from '../runner/chaos-run.js';
import { retire, startReplica } from '../runner/replica-lifecycle.js';
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { FaultContext, FaultFamily, FaultOutcome } from './fault.js';

/** The replicas' membership interval (the library's default, 2 x leaseDuration) and entry ttl. */
const MEMBERSHIP_INTERVAL = 2 * CHAOS_TIMINGS.leaseDuration;
const MEMBER_TTL = 3 * MEMBERSHIP_INTERVAL;
/** Valid-looking forged names: they sort before the replicas' (r1, r2, ...), so they get quotas. */
const FORGED = Array.from({ length: 50 }, (_, i) => `member-${String(i).padStart(2, '0')}`);
/** A forged name no replica may accept (control characters). */
const INVALID = 'evil\u0007\nname';
/** How long replicas with another share count run beside the others. */
const MIX_MS = 20_000;

/** The membership Lease's annotation as JSON (see MEMBERS_ANNOTATION), edited by `edit`. */
async function editMembers(
  run: ChaosRun,
  edit: (json: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const name = membersLeaseName(`${run.lease}-jobs`);
  const namespace = run.namespace;
  for (let attempt = 1; ; attempt++) {
    const lease = await run.leases.readNamespacedLease({ name, namespace });
    const annotations = lease.metadata?.annotations ?? {};
    const json = JSON.parse(annotations[MEMBERS_ANNOTATION] ?? '{}') as Record<string, unknown>;
    edit(json);
    try {
      lease.metadata = {
        ...lease.metadata,
        annotations: { ...annotations, [MEMBERS_ANNOTATION]: JSON.stringify(json) },
      };
      await run.leases.replaceNamespacedLease({ name, namespace, body: lease });
      return json;
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || attempt >= 10) throw error;
    }
  }
}

/**
 * An administrator writes 50 valid-looking entries (names that sort first, the replicas' ttl and
 * share count) and one whose name has control characters into the membership annotation. The
 * replicas hand shares to the forged names (they get the quotas), which never take them: each
 * replica may name each forged name once (then it is a suspect until its entry is renewed, which
 * never happens), never the invalid one, at most 12 a minute. The fault lasts until the entries
 * expired (their ttl after the replicas saw them) and a renewal dropped them.
 */
async function membersForged({ run, since }: FaultContext): Promise<FaultOutcome> {
  await editMembers(run, (json) => {
    const until = Date.now() + MEMBER_TTL;
    const rest = (json[''] ?? {}) as Record<string, unknown>;
    for (const name of [...FORGED, INVALID]) {
      json[name] = until;
      rest[name] = { ttl: MEMBER_TTL, shares: run.spread!.shares };
    }
    json[''] = rest;
  });
  await sleep(MEMBER_TTL + 1.1 * MEMBERSHIP_INTERVAL + 1_000);
  const left = await editMembers(run, () => undefined);
  const problems: string[] = [];
  const pairs = new Map<string, number>();
  for (const e of run.events.slice(since)) {
    const handover = handoverOf(e);
    if (!handover) continue;
    const key = `${handover.giver} -> ${handover.successor}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
    if (handover.successor.startsWith('evil')) problems.push(`handed to the invalid name: ${key}`);
  }
  const toForged = [...pairs].filter(([key]) => / -> member-\d\d$/.test(key));
  const repeated = toForged.filter(([, count]) => count > 1);
  if (repeated.length)
    problems.push(
      `forged names handed a share more than once by one replica: ${repeated.join(', ')}`,
    );
  const kept = [...FORGED, INVALID].filter((name) => name in left);
  if (kept.length) problems.push(`entries still in the annotation at the end: ${kept.length}`);
  const handovers = toForged.reduce((sum, [, count]) => sum + count, 0);
  return {
    note: `${handovers} handover(s) to ${toForged.length} forged name(s), none twice by one replica`,
    ...(problems.length ? { problems } : {}),
  };
}

/**
 * Two replicas with two more shares join (the start of a rollout that changes `shares`), run
 * beside the others for {@link MIX_MS}, and leave. A share is handed only to a replica that has
 * it. Jobs whose share differs between the counts run on both mappings meanwhile: their double
 * runs (overlap) are measured and reported, as documented, not failed.
 */
async function sharesMixed({ run, since }: FaultContext): Promise<FaultOutcome> {
  const shares = run.spread!.shares;
  const more = shares + 2;
  const mixed = [
    await startReplica(run, { shares: more }),
    await startReplica(run, { shares: more }),
  ];
  for (const r of mixed) await r.waitFor((e) => e.type === 'ready', 'start-up');
  const from = now();
  await sleep(MIX_MS);
  const to = now();
  const moved = movedJobs(run.jobs, shares, more);
  const byJob = intervalsByJob(workIntervals(run.events, 'job'));
  const doubled = moved.map((job) => Math.ceil(overlapWithin(byJob.get(job) ?? [], from, to)));
  const withFewer = new Set(run.replicas.filter((r) => !mixed.includes(r)).map((r) => r.identity));
  const beyond = run.events
    .slice(since)
    .filter(handedOver)
    .filter((e) => {
      const share = Number(/^handing share (\d+)/.exec(e.message!)?.[1]);
      return share >= shares && withFewer.has(handoverOf(e)!.successor);
    });
  const mixHandovers = run.events.filter((e) => handedOver(e) && e.t >= from && e.t <= to).length;
  for (const r of mixed) await retire(r);
  return {
    note:
      `${mixed.map((r) => r.id).join(' and ')} with ${more} shares for ${Math.round((to - from) / 1000)} s: ` +
      `${mixHandovers} handover(s); moved jobs ${moved.map((job, i) => `${job} ran twice ${doubled[i]} ms`).join(', ') || 'none'}`,
    movedJobs: moved,
    ...(beyond.length
      ? {
          problems: [
            `shares handed to replicas without them: ${beyond.map((e) => e.message).join('; ')}`,
          ],
        }
      : {}),
  };
}

export const SPREAD_MEMBERSHIP_EDITS = {
  'spread-members-forged': membersForged,
  'spread-shares-mixed': sharesMixed,
} satisfies FaultFamily;
