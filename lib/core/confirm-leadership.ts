import type { ElectionLoop } from './election-loop.js';

/**
 * Renews now and resolves whether the elector leads by it (see `LeaderElector.confirmLeadership`):
 * only a renew that started after this call counts, so an attempt already running is waited for
 * and followed by a new one. Never rejects.
 */
export async function confirmLeadership(loop: ElectionLoop): Promise<boolean> {
  const from = loop.clock.now();
  if (!loop.leadingTerm()) return false;
  // An attempt that started before this call proves nothing: wait for it, then run a new one.
  while (loop.runningAttempt && loop.attemptStartedAt < from) {
    await loop.runningAttempt.catch(() => undefined);
  }
  const writes = loop.successfulWrites;
  if (!loop.runningAttempt) loop.requestAttempt();
  await loop.runningAttempt?.catch(() => undefined);
  return loop.leadingTerm() !== null && loop.successfulWrites > writes;
}
