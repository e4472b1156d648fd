// The run's Leases as an administrator sees them: who holds the election's Lease, when it is next
// renewed, which Leases still name a replica, and the edits and deletions the Lease faults make.
import { CHAOS_TIMINGS, now, sleep } from '../timings.js';
import type { ChaosRun } from './chaos-run.js';

/** The holder, once the Lease is back to what our replicas write (an admin edit repaired). */
export async function leaseHolder(run: ChaosRun): Promise<string | null> {
  try {
    const spec = (
      await run.leases.readNamespacedLease({ name: run.lease, namespace: run.namespace })
    ).spec;
    if (spec?.leaseDurationSeconds !== CHAOS_TIMINGS.leaseDuration / 1000) return null;
    return spec?.holderIdentity ?? null;
  } catch {
    return null;
  }
}

/**
 * Resolves right after the Lease's next renew (a new renewTime): its holder, cut off then, leads
 * on for almost its renew deadline, the widest window a fault can aim at.
 */
export async function afterNextRenew(run: ChaosRun, timeoutMs = 10_000): Promise<void> {
  const renewTime = async () => {
    try {
      return String(
        (await run.leases.readNamespacedLease({ name: run.lease, namespace: run.namespace })).spec
          ?.renewTime,
      );
    } catch {
      return undefined;
    }
  };
  const before = await renewTime();
  const deadline = now() + timeoutMs;
  while ((await renewTime()) === before) {
    if (now() > deadline) throw new Error(`no renew of the Lease within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The Leases of the run (the election's, the shares') that name `identity` as their holder. */
export async function leasesHeldBy(run: ChaosRun, identity: string): Promise<string[]> {
  return (await run.leases.listNamespacedLease({ namespace: run.namespace })).items
    .filter((l) => l.spec?.holderIdentity === identity)
    .map((l) => l.metadata!.name!);
}

/** Deletes the election's Lease as an administrator. */
export async function deleteLease(run: ChaosRun): Promise<void> {
  await run.leases.deleteNamespacedLease({ name: run.lease, namespace: run.namespace });
}

/** Reads the Lease and replaces its spec as an administrator; returns a note if the server refused. */
export async function adminEdit(
  run: ChaosRun,
  edit: (spec: Record<string, unknown>) => Record<string, unknown>,
): Promise<string | undefined> {
  const name = run.lease;
  const namespace = run.namespace;
  const current = await run.leases.readNamespacedLease({ name, namespace });
  try {
    await run.leases.replaceNamespacedLease({
      name,
      namespace,
      body: { ...current, spec: edit({ ...(current.spec as Record<string, unknown>) }) },
    });
    return undefined;
  } catch (error) {
    const code = (error as { code?: number }).code;
    return `the API server refused the edit with ${code ?? String(error)}`;
  }
}
