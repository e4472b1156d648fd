import { randomBytes } from 'node:crypto';
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { ElectorLogger, LeaderChangeEvent } from '../core/index.js';
import { describeApiError, httpStatusOf } from './errors.js';
import { requestOptions } from './client-node-compat.js';
import {
  EVENT_NOT_RECORDED,
  EVENT_NOT_RECORDED_AGAIN,
  UNKNOWN_ERROR,
} from './kubernetes.messages.js';

/** `reason` of the Events, as client-go's leader election writes it. */
export const LEADER_ELECTION_EVENT_REASON = 'LeaderElection';

/** An Event's `type`: `Normal`, or `Warning` for what an operator should look at. */
export type EventType = 'Normal' | 'Warning';

/** What one Event says. */
interface RecordedEvent {
  readonly message: string;
  readonly reason: string;
  readonly type: EventType;
}

/** Options of a {@link LeaseEventRecorder}. */
export interface LeaseEventRecorderOptions {
  /** Cluster access (the same as the lock's). */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Lease; the Events are created there. */
  readonly namespace: string;
  /** Name of the Lease the Events are about. */
  readonly leaseName: string;
  /** This candidate's identity: the Events say `<identity> became leader`. */
  readonly identity: string;
  /** `source.component` / `reportingComponent` of the Events. Default `nestjs-kube-leader`. */
  readonly component?: string;
  /** The Lease's `metadata.uid` when known, so `kubectl describe lease` lists the Events. */
  readonly leaseUid?: () => string | undefined;
  /** Where the first failure of a failure streak is reported. Default: silent. */
  readonly logger?: ElectorLogger;
  /** Timeout of each create request, ms. Default 5000. */
  readonly requestTimeout?: number;
  /**
   * Delays before retrying an Event that failed for a transient reason (network, 429, 5xx), ms.
   * Default `[1000, 2000, 4000, 8000]`: an Event about a leader cut off from the API server is
   * recorded when the connection returns.
   */
  readonly retryDelays?: readonly number[];
}

/**
 * Records client-go's leader election Events on the Lease: `<identity> became leader` and
 * `<identity> stopped leading`, type Normal, reason `LeaderElection`, involvedObject the Lease
 * (`kubectl describe lease <name>` and `kubectl get events` show them). With `once` jobs, the Nest
 * layer records through it one Event per fire caught up, coalesced, missed or interrupted
 * (`FireCaughtUp`, `FireCoalesced`, `FireMissed`, `FireInterrupted`).
 *
 * Recording never affects the election: requests run in the background, transient failures are
 * retried a few times, failures are logged once per failure streak (with the RBAC rule to add when
 * the server answers 403) and otherwise ignored.
 *
 * RBAC needed in the Lease's namespace: `create` on `events` (API group `""`).
 *
 * @example
 * ```ts
 * const recorder = new LeaseEventRecorder({ kubeConfig, namespace, leaseName: 'billing', identity });
 * elector.onChange((event) => recorder.onLeaderChange(event));
 * // ...
 * await elector.stop();
 * await recorder.flush();
 * recorder.close();
 * ```
 */
export class LeaseEventRecorder {
  private readonly api: CoreV1Api;
  private readonly component: string;
  private readonly requestTimeout: number;
  private readonly retryDelays: readonly number[];
  private readonly pending = new Set<Promise<void>>();
  private readonly closed = new AbortController();
  private leading = false;
  private failing = false;

  constructor(private readonly options: LeaseEventRecorderOptions) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.component = (options.component ?? 'nestjs-kube-leader').slice(0, 128);
    this.requestTimeout = options.requestTimeout ?? 5_000;
    this.retryDelays = options.retryDelays ?? [1_000, 2_000, 4_000, 8_000];
  }

  /** Feed it every change event: it records an Event whenever this instance starts or stops leading. */
  onLeaderChange(event: LeaderChangeEvent): void {
    if (event.isLeader === this.leading) return;
    this.leading = event.isLeader;
    this.record(`${this.options.identity} ${event.isLeader ? 'became leader' : 'stopped leading'}`);
  }

  /**
   * Creates one Event on the Lease, in the background: by default Normal with reason
   * `LeaderElection` (client-go's); `reason` and `type` for others (e.g. `FireMissed`, Warning).
   */
  record(
    message: string,
    reason: string = LEADER_ELECTION_EVENT_REASON,
    type: EventType = 'Normal',
  ): void {
    if (this.closed.signal.aborted) return;
    const request = this.deliver({ message, reason, type }).finally(() =>
      this.pending.delete(request),
    );
    this.pending.add(request);
  }

  /** Waits (at most `timeoutMs`) for the Events being recorded. Never rejects. */
  async flush(timeoutMs = this.requestTimeout): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** Gives up the Events still being retried; records nothing more. */
  close(): void {
    this.closed.abort();
  }

  private async deliver(event: RecordedEvent): Promise<void> {
    const { message } = event;
    const timestamp = new Date();
    // One name for every attempt: a retry of an Event that was stored answers 409.
    const name = eventName(this.options.leaseName, timestamp);
    for (let attempt = 0; ; attempt++) {
      const error = await this.create(name, event, timestamp);
      if (error === undefined) {
        this.failing = false;
        return;
      }
      const delay = this.retryDelays[attempt];
      const transient = isTransient(error);
      if (!transient || delay === undefined || this.closed.signal.aborted) {
        this.report(message, error);
        return;
      }
      if (!(await sleep(delay, this.closed.signal))) return;
    }
  }

  private report(message: string, error: unknown): void {
    const { namespace, leaseName } = this.options;
    if (this.failing) {
      this.options.logger?.debug?.(EVENT_NOT_RECORDED_AGAIN(message, describeApiError(error)));
      return;
    }
    this.failing = true;
    const forbidden = httpStatusOf(error) === 403 || httpStatusOf(error) === 401;
    this.options.logger?.warn(
      EVENT_NOT_RECORDED(message, namespace, leaseName, describeApiError(error), forbidden),
    );
  }

  /** One create request; resolves with the error, or undefined on success. */
  private async create(name: string, event: RecordedEvent, now: Date): Promise<unknown> {
    const { message, reason, type } = event;
    const { namespace, leaseName, identity } = this.options;
    const uid = safely(() => this.options.leaseUid?.());
    const body: CoreV1Event = {
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: leaseName,
        namespace,
        ...(uid ? { uid } : {}),
      },
      reason,
      message,
      type,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: identity.slice(0, 128),
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const signal = AbortSignal.any([AbortSignal.timeout(this.requestTimeout), this.closed.signal]);
    try {
      await this.api.createNamespacedEvent(
        { namespace, body },
        requestOptions((context) => context.setSignal(signal)),
      );
      return undefined;
    } catch (error) {
      // A retry of an Event the server did store (the answer was lost) is not an error.
      return httpStatusOf(error) === 409 ? undefined : (error ?? new Error(UNKNOWN_ERROR));
    }
  }
}

/** client-go names Events `<object>.<hex timestamp>`; a random suffix keeps replicas apart. */
function eventName(leaseName: string, now: Date): string {
  const suffix = `${now.getTime().toString(16)}${randomBytes(4).toString('hex')}`;
  return `${leaseName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

/** Network errors, timeouts, 429 and 5xx are worth retrying; other answers are not. */
function isTransient(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === undefined || status === 429 || status >= 500;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. The timer never holds the process. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
