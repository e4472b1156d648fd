// The containers' output when a test of the test kubelet's pods fails: the kubelet keeps every pod's
// stdout and stderr lines in memory (deleted pods' too), but the pod directories with the log files
// are removed by stopAll(), so without this a failure says nothing of what the pods did.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningPod, TestKubelet } from './kubelet.js';

/** Lines kept of each pod's log in a failure's report (the whole logs go to a file). */
const TAIL_LINES = 40;
// eslint-disable-next-line no-control-regex -- the colours Nest's logger writes to a pipe
const COLOURS = /\u001b\[[0-9;]*m/g;
/** Nest's levels that say something went wrong (shown even before the tail). */
const TROUBLE = /\b(WARN|ERROR|FATAL)\b/;

const plain = (line: string) => line.replace(COLOURS, '');

function podState(pod: RunningPod): string {
  const state = pod.exit
    ? `exited (${pod.exit.signal ?? `code ${pod.exit.code}`})`
    : pod.ready
      ? 'ready'
      : 'not ready';
  return `${pod.name} ${pod.ip}: ${state}, ${pod.restarts} restart(s)`;
}

/**
 * Each pod's state, its warnings and errors from before the tail, and the last `lines` lines of its
 * log, colours removed.
 */
export function podLogReport(pods: readonly RunningPod[], lines = TAIL_LINES): string {
  return pods
    .map((pod) => {
      const logs = pod.logs.map(plain);
      const tailFrom = Math.max(0, logs.length - lines);
      const earlier = logs.slice(0, tailFrom).filter((line) => TROUBLE.test(line));
      return [
        `=== ${podState(pod)}; ${logs.length} log lines`,
        ...(earlier.length > 0 ? [`--- warnings and errors before the last ${lines}:`] : []),
        ...earlier,
        `--- the last ${logs.length - tailFrom}:`,
        ...logs.slice(tailFrom),
      ].join('\n');
    })
    .join('\n');
}

/** Writes every pod's whole log into one file under the system's temporary directory. */
export function writePodLogs(pods: readonly RunningPod[]): string {
  const file = path.join(os.tmpdir(), `kubelet-pod-logs-${process.pid}-${Date.now()}.txt`);
  fs.writeFileSync(
    file,
    pods.map((pod) => [`=== ${podState(pod)}`, ...pod.logs.map(plain)].join('\n')).join('\n'),
  );
  return file;
}

/**
 * A test body that, when it fails, prints what every pod the kubelet ran wrote (and where its whole
 * log is), then fails as it would have.
 */
export function withPodLogsOnFailure(
  kubelet: () => TestKubelet | undefined,
  body: () => Promise<void>,
): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      const pods = kubelet()?.podsRun() ?? [];
      console.error(
        `the pods' logs as the test failed (whole logs: ${writePodLogs(pods)}):\n` +
          podLogReport(pods),
      );
      throw error;
    }
  };
}

/**
 * Jest's `it`, with every body wrapped by {@link withPodLogsOnFailure}. A describe block of the
 * kubelet's pods shadows `it` with it: `const it = itPrintingPodLogs(() => sample?.kubelet);`.
 */
export function itPrintingPodLogs(kubelet: () => TestKubelet | undefined) {
  return (name: string, body: () => Promise<void>, timeout?: number) =>
    it(name, withPodLogsOnFailure(kubelet, body), timeout);
}
