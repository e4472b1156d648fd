import { isIP } from 'node:net';
import {
  InvalidOptionError,
  type ElectorLogger,
  type FencingToken,
  type LeaderElector,
} from './core/index.js';
import { describeError } from './core/errors.js';
import type { LeaderServiceOptions } from './interfaces/leader-election-options.interface.js';
import type { LeaseLockSetup } from './kubernetes/create-lease-lock.js';
import type { LeaderEndpoint, LeaderEndpointSlice } from './kubernetes/leader-endpoint-slice.js';
import {
  LEADER_SERVICE_POD_IP,
  LEADER_SERVICE_POD_NAME,
  LEADER_SERVICE_SHAPE,
  LEADER_SERVICE_WITH_LOCK,
  LEADER_SERVICE_WITH_SHARES,
  LEADER_SLICE_EMPTIED,
  LEADER_SLICE_FAILED,
  LEADER_SLICE_WRITTEN,
} from './leader-election.messages.js';

const KEYS = new Set(['name', 'port', 'sliceName', 'podIP', 'podName']);

/**
 * Checks `leaderService` at start-up, before any request: its shape, what it cannot be combined
 * with, and this pod's address and name (from `POD_IP` and `POD_NAME` unless given). Returns the
 * leader's endpoint as the slice will name it.
 */
export function assertLeaderService(
  value: unknown,
  combined: { shares?: number; lock?: unknown },
  env: NodeJS.ProcessEnv = process.env,
): LeaderEndpoint {
  const option = value as LeaderServiceOptions;
  if (
    !value ||
    typeof value !== 'object' ||
    !Object.keys(value).every((key) => KEYS.has(key)) ||
    !option.port ||
    typeof option.port !== 'object'
  ) {
    throw new InvalidOptionError('leaderService', LEADER_SERVICE_SHAPE, value);
  }
  if (combined.shares !== undefined) {
    throw new InvalidOptionError('leaderService', LEADER_SERVICE_WITH_SHARES);
  }
  if (combined.lock !== undefined) {
    throw new InvalidOptionError('leaderService', LEADER_SERVICE_WITH_LOCK);
  }
  const ip = option.podIP ?? env.POD_IP;
  if (typeof ip !== 'string' || isIP(ip) === 0) {
    throw new InvalidOptionError('leaderService.podIP', LEADER_SERVICE_POD_IP, ip);
  }
  const podName = option.podName ?? env.POD_NAME;
  if (typeof podName !== 'string' || podName.length === 0) {
    throw new InvalidOptionError('leaderService.podName', LEADER_SERVICE_POD_NAME, podName);
  }
  return { ip, podName };
}

/**
 * Builds the slice writer (loading client-node), naming its options as the module's
 * (`leaderService.name`, `leaderService.port.port`, ...) when they are refused.
 */
export async function leaderServiceSlice(
  options: LeaderServiceOptions,
  kubeConfig: LeaseLockSetup['kubeConfig'],
  namespace: string,
  requestTimeout: number,
): Promise<LeaderEndpointSlice> {
  const { LeaderEndpointSlice } = await import('./kubernetes/leader-endpoint-slice.js');
  try {
    return new LeaderEndpointSlice({
      kubeConfig,
      namespace,
      serviceName: options.name,
      sliceName: options.sliceName,
      port: options.port,
      requestTimeout,
    });
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const option = error.option === 'serviceName' ? 'name' : error.option;
    throw new InvalidOptionError(`leaderService.${option}`, error.rule, error.value);
  }
}

/**
 * Keeps the leader's EndpointSlice: written (fenced by the term's token) when the elector starts
 * leading, emptied before it releases the Lease (see `LeaderElector.beforeRelease`); a follower
 * never writes. Writes run one after another; a failure (a denial names the Role rule to add) is
 * logged and never affects the election.
 */
export function keepLeaderSlice(
  elector: LeaderElector,
  slice: Pick<LeaderEndpointSlice, 'write' | 'clear'>,
  endpoint: LeaderEndpoint,
  sliceName: string,
  logger: ElectorLogger | undefined,
): void {
  let chain = Promise.resolve();
  const enqueue = (action: 'write' | 'empty', step: () => Promise<string>) => {
    const run = chain.then(step).then(
      (line) => void logger?.log(line),
      (error: unknown) => {
        // Refused for a later term's write: that term's leader names itself, as it should.
        const fenced = error instanceof Error && error.name === 'EndpointSliceFencedError';
        const line = LEADER_SLICE_FAILED(action, describeError(error));
        if (fenced) logger?.warn(line);
        else logger?.error(line);
        return error;
      },
    );
    chain = run.then(() => undefined);
    return run;
  };
  const write = (token: FencingToken) =>
    void enqueue('write', async () => {
      await slice.write(endpoint, token);
      return LEADER_SLICE_WRITTEN(sliceName, endpoint.ip, token.toString());
    }).then((error) => {
      // Unanswered or a server error: again after retryPeriod, as long as this term leads.
      if (!isRetryable(error)) return;
      const retry = setTimeout(() => {
        if (elector.fencingToken()?.equals(token)) write(token);
      }, elector.retryPeriod);
      retry.unref();
    });
  elector.onChange((event) => {
    if (event.isLeader && event.fencingToken) write(event.fencingToken);
  });
  elector.beforeRelease(async (token: FencingToken) => {
    await enqueue('empty', async () => {
      await slice.clear(token);
      return LEADER_SLICE_EMPTIED(sliceName);
    });
  });
}

/**
 * Whether a failed write may succeed if tried again: no answer, 429 or a server error. Not a denial
 * (the Role needs the rule), an invalid slice, or a fenced write (a later term wrote it).
 */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'EndpointSliceWriteError') return false;
  const status = (error as Error & { status?: number }).status;
  return status === undefined || status === 429 || status >= 500;
}
