/**
 * Polls `condition` every `intervalMs` (20 by default; a condition wait, not a sleep); rejects after
 * `timeoutMs`. A condition that reads a file (the audit log) or asks the API server is better polled
 * less often.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
