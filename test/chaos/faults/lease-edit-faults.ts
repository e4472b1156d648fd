// Faults on the Lease object itself, made by an administrator: deleted, its holder overwritten, a
// nonsense duration, malformed times.
import { pick } from '../runner/chaos-run.js';
import { adminEdit, deleteLease } from '../runner/lease-access.js';
import type { FaultFamily } from './fault.js';

export const LEASE_EDIT_FAULTS = {
  'lease-deleted': async ({ run }) => {
    await deleteLease(run);
  },
  'holder-overwritten': async ({ run }) => ({
    note: await adminEdit(run, (spec) => ({ ...spec, holderIdentity: 'intruder' })),
  }),
  'duration-nonsense': async ({ run }) => {
    const seconds = pick(run, [1, 2_147_483_647]);
    const refused = await adminEdit(run, (spec) => ({ ...spec, leaseDurationSeconds: seconds }));
    return { note: refused ?? `leaseDurationSeconds ${seconds}` };
  },
  'times-malformed': async ({ run }) => ({
    note: await adminEdit(run, (spec) => ({
      ...spec,
      renewTime: pick(run, [
        'yesterday',
        '2026-11-23T20:00:00.1Z',
        '2026-11-23T20:00:00Z',
      ]) as unknown as Date,
    })),
  }),
} satisfies FaultFamily;
