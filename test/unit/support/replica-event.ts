import type { ReplicaEvent } from '../../chaos/checker.js';

/** A replica's event as the chaos checker reads it: time, replica, type and any other fields. */
export const replicaEvent = (
  t: number,
  id: string,
  type: string,
  extra: Partial<ReplicaEvent> = {},
): ReplicaEvent => ({ t, id, type, ...extra });
