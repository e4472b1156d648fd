import { CoordinationV1Api, Watch, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import {
  InvalidOptionError,
  LockConflictError,
  LockForbiddenError,
  LockGoneError,
  type LockError,
  type LockOperation,
  type LeaseLock,
  type LeaseRecord,
  type LeaseSpec,
  type LockCallOptions,
  type LockWatch,
  type LockWatchHandlers,
} from '../core/index.js';
import { assertIdentity } from '../core/identity.js';
import { requestOptions, type RequestOptions } from './client-node-compat.js';
import { ConnectionReuse } from './connection-reuse.js';
import { withTokenFileAuth, type ServiceAccountToken } from './service-account-token.js';
import { assertDnsSubdomain, assertNamespace } from './names.js';
import { httpStatusOf, toLockError, type RequestContext } from './errors.js';
import { formatMicroTime, parseMicroTime } from './micro-time.js';
import { SeenLeases } from './seen-leases.js';
import { decodeAnnotations, encodeAnnotations } from './lease-annotations.js';

/** Options of a {@link KubernetesLeaseLock}. */
export interface KubernetesLeaseLockOptions {
  /** Cluster access; e.g. `kc.loadFromDefault()`. */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Lease. */
  readonly namespace: string;
  /** Name of the Lease (a DNS-1123 subdomain). */
  readonly name: string;
  /** This candidate's identity. */
  readonly identity: string;
  /** Labels put on the Lease when this candidate creates it. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Bounds of the server-side timeout of each watch, drawn anew per watch (seconds). Like client-go's
 * reflector (5 to 10 minutes): spreads the re-watches of many replicas over time.
 */
export const WATCH_TIMEOUT_SECONDS = { min: 300, max: 600 } as const;

/**
 * A {@link LeaseLock} over one `coordination.k8s.io/v1` Lease through @kubernetes/client-node
 * (1.x and 2.x): `get`, `create` and `update` (replace with the resourceVersion it is based on), and
 * a watch on the single Lease (fieldSelector on its name, bookmarks on).
 *
 * RBAC needed, in the Lease's namespace: `leases` verbs get, create, update, watch.
 *
 * Writes keep every other field of the Lease (labels, annotations, owner references, other spec
 * fields) as the object they are based on has them, as client-go does. Times are written as MicroTime with six fractional digits.
 * The library's own annotations (successor, membership) are written as the spec has them, by the
 * codec in lease-annotations.ts; a write whose annotations would exceed their size budget is not
 * sent and fails with a `LockAnnotationTooLargeError`.
 */
export class KubernetesLeaseLock implements LeaseLock {
  readonly identity: string;
  /** Namespace of the Lease. */
  readonly namespace: string;
  /** Name of the Lease. */
  readonly name: string;
  readonly description: string;

  private readonly api: CoordinationV1Api;
  private readonly watcher: Watch;
  private readonly labels: Readonly<Record<string, string>> | undefined;
  /** The full objects seen lately, so that a replace keeps the fields of the one it is based on. */
  private readonly seen = new SeenLeases();
  /** The user an earlier 403 named (the server names it in a denial's body; a watch's has none). */
  private deniedUser: string | undefined;
  /** One kept-alive connection pool instead of client-node's connection per request. */
  private readonly connections: ConnectionReuse;
  /** The service-account token file, when the KubeConfig is in-cluster (read again on a 401). */
  private readonly token: ServiceAccountToken | undefined;

  constructor(options: KubernetesLeaseLockOptions) {
    if (!options?.kubeConfig) throw new InvalidOptionError('kubeConfig', 'is required');
    assertDnsSubdomain('name', options.name);
    assertNamespace('namespace', options.namespace);
    assertIdentity('identity', options.identity);
    if (!options.kubeConfig.getCurrentCluster()) {
      throw new InvalidOptionError(
        'kubeConfig',
        'has no current cluster (check the kubeconfig file, its current-context, or in-cluster service account)',
      );
    }
    this.identity = options.identity;
    this.namespace = options.namespace;
    this.name = options.name;
    this.labels = options.labels;
    this.description = `lease ${options.namespace}/${options.name}`;
    const { kubeConfig, token } = withTokenFileAuth(options.kubeConfig);
    this.token = token;
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.watcher = new Watch(kubeConfig);
    this.connections = new ConnectionReuse(kubeConfig);
  }

  async get(options?: LockCallOptions): Promise<LeaseRecord | null> {
    try {
      return await this.send('get', options, (request) =>
        this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, request),
      );
    } catch (error) {
      if ((error as LockError).name === 'LockNotFoundError') return null;
      throw error;
    }
  }

  /**
   * Creates the Lease with a PUT to its name, not a POST: the API server checks a PUT that creates
   * as `create` on that name, so a Role can name the Lease (`resourceNames`) for every verb; a POST
   * has no name in its URL and matches no such rule. A PUT without resourceVersion never overwrites:
   * when the Lease exists, the server refuses it (422), which is this method's conflict.
   */
  async create(spec: LeaseSpec, options?: LockCallOptions): Promise<LeaseRecord> {
    const annotations = encodeAnnotations(undefined, spec, `create ${this.description}`);
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(this.labels ? { labels: { ...this.labels } } : {}),
        ...(annotations ? { annotations } : {}),
      },
      spec: encodeSpec(spec),
    };
    try {
      return await this.send('create', options, (request) =>
        this.api.replaceNamespacedLease(
          { name: this.name, namespace: this.namespace, body },
          request,
        ),
      );
    } catch (error) {
      if (!existedAlready(error)) throw error;
      throw new LockConflictError(`create ${this.description}: it exists already`, error);
    }
  }

  async update(
    spec: LeaseSpec,
    resourceVersion: string,
    options?: LockCallOptions,
  ): Promise<LeaseRecord> {
    // The object at the version the write is conditioned on: if the write succeeds, the Lease is
    // still that object (or was deleted since, and the write re-creates it from that object).
    const base = this.seen.at(resourceVersion);
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(base?.metadata ?? {}),
        name: this.name,
        namespace: this.namespace,
        resourceVersion,
        annotations: encodeAnnotations(
          base?.metadata?.annotations,
          spec,
          `update ${this.description}`,
        ),
      },
      spec: { ...(base?.spec ?? {}), ...encodeSpec(spec) },
    };
    return this.send('update', options, (request) =>
      this.api.replaceNamespacedLease(
        { name: this.name, namespace: this.namespace, body },
        request,
      ),
    );
  }

  watch(handlers: LockWatchHandlers, options: { resourceVersion?: string } = {}): LockWatch {
    let closedByUs = false;
    let ended = false;
    let controller: AbortController | undefined;
    const end = (error?: unknown) => {
      if (ended || closedByUs) return;
      ended = true;
      controller?.abort();
      handlers.onClose(error);
    };
    const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/leases`;
    const query: Record<string, string | number | boolean> = {
      fieldSelector: `metadata.name=${this.name}`,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(
        WATCH_TIMEOUT_SECONDS.min +
          Math.random() * (WATCH_TIMEOUT_SECONDS.max - WATCH_TIMEOUT_SECONDS.min),
      ),
    };
    if (options.resourceVersion) query.resourceVersion = options.resourceVersion;

    const onEvent = (type: string, object: unknown) => {
      if (ended || closedByUs) return;
      try {
        if (type === 'BOOKMARK') {
          const version = (object as V1Lease)?.metadata?.resourceVersion;
          if (version) handlers.onEvent({ type: 'BOOKMARK', resourceVersion: version });
        } else if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          end(
            status?.code === 410
              ? new LockGoneError(
                  `watch ${this.description}: ${status.message ?? 'resource version too old'}`,
                )
              : this.lockError(
                  { code: status?.code ?? 500, body: JSON.stringify(status) },
                  'watch',
                ),
          );
        } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          const lease = object as V1Lease;
          if (lease?.metadata?.name !== this.name) return;
          const record = type === 'DELETED' ? decodeLease(lease) : this.remember(lease);
          handlers.onEvent({ type, record });
        }
      } catch (error) {
        end(error);
      }
    };

    const onDone = (error: unknown) => {
      if (!error) return end();
      const name = (error as { name?: string }).name;
      // client-node 2.x ends an idle watch with a client-side timeout: a normal close for us.
      if (!closedByUs && (name === 'AbortError' || name === 'TimeoutError')) return end();
      end(this.watchFailed(error));
    };

    this.watcher
      .watch(path, query, onEvent, onDone)
      .then((started) => {
        controller = started;
        // watch() resolves once the server answered 200 (on an error it has called onDone first).
        if (closedByUs || ended) started.abort();
        else handlers.onOpen?.();
      })
      .catch((error: unknown) => end(this.watchFailed(error)));

    return {
      close: () => {
        closedByUs = true;
        controller?.abort();
      },
    };
  }

  /** `metadata.uid` of the newest Lease seen, if any (for Events about it). */
  get uid(): string | undefined {
    return this.seen.newest?.metadata?.uid;
  }

  /** Closes the kept-alive connections (the elector calls it when it stops). */
  close(): void {
    this.connections.reset();
  }

  /**
   * Maps a failed request to a LockError. A 401 also drops the kept connections: the credentials
   * they were opened with may be the ones the server no longer accepts (an expired client certificate).
   */
  private failed(error: unknown, verb: LockOperation): LockError {
    if (httpStatusOf(error) === 401) this.connections.reset();
    return this.lockError(error, verb);
  }

  /** A watch that ended with an error; after a 401 the next watch reads the token file again. */
  private watchFailed(error: unknown): LockError {
    if (httpStatusOf(error) === 401) this.token?.refresh(undefined);
    return this.lockError(error, 'watch');
  }

  /**
   * {@link toLockError}, with the user of an earlier denial on a denial that names none (a watch's
   * 403 has no body), so that every verb's Forbidden reads the same.
   */
  private lockError(error: unknown, verb: LockOperation): LockError {
    const mapped = toLockError(error, this.context(verb));
    if (!(mapped instanceof LockForbiddenError)) return mapped;
    if (mapped.user) {
      this.deniedUser = mapped.user;
      return mapped;
    }
    if (!this.deniedUser) return mapped;
    const { resource, namespace, serverMessage } = mapped;
    return new LockForbiddenError(verb, resource, namespace, this.deniedUser, serverMessage, error);
  }

  /** One request with the call's abort signal and the kept connections; remembers the answer. */
  private async send(
    verb: LockOperation,
    options: LockCallOptions | undefined,
    request: (requestOptions: RequestOptions) => Promise<V1Lease>,
  ): Promise<LeaseRecord> {
    const signal = options?.signal;
    const once = () =>
      request(
        requestOptions(async (context) => {
          if (signal) context.setSignal(signal);
          await this.connections.apply(context);
        }),
      );
    const used = this.token?.lastRead;
    try {
      return this.remember(await once());
    } catch (error) {
      // The kubelet rotated the token and the old one is no longer valid: once more with the new one.
      if (httpStatusOf(error) !== 401 || !this.token?.refresh(used)) throw this.failed(error, verb);
    }
    try {
      return this.remember(await once());
    } catch (error) {
      throw this.failed(error, verb);
    }
  }

  private remember(lease: V1Lease): LeaseRecord {
    this.seen.add(lease);
    return decodeLease(lease);
  }

  private context(verb: LockOperation): RequestContext {
    return { verb, namespace: this.namespace, name: this.name };
  }
}

/** A create by PUT refused because the Lease exists: 422 on `metadata.resourceVersion`. */
function existedAlready(error: unknown): boolean {
  const cause = (error as LockError).cause;
  return (
    (error as LockError).name === 'LockRejectedError' &&
    httpStatusOf(cause) === 422 &&
    /metadata\.resourceVersion/.test((error as LockError).message)
  );
}

/** Encodes the election fields; MicroTime as a string with six fractional digits. */
function encodeSpec(spec: LeaseSpec): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    // The generated type is V1MicroTime (a Date); the serializer passes strings through unchanged,
    // in 1.x and 2.x alike, so the exact wire format is ours.
    acquireTime: formatMicroTime(spec.acquireTime) as unknown as Date,
    renewTime: formatMicroTime(spec.renewTime) as unknown as Date,
    leaseTransitions: spec.leaseTransitions,
  };
}

/** Reads a Lease tolerantly: fields of the wrong type become null instead of failing. */
export function decodeLease(lease: V1Lease): LeaseRecord {
  const spec = (lease.spec ?? {}) as Record<string, unknown>;
  const integer = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) ? value : null;
  const holderIdentity = typeof spec.holderIdentity === 'string' ? spec.holderIdentity : null;
  const leaseTransitions = integer(spec.leaseTransitions);
  return {
    holderIdentity,
    leaseDurationSeconds: integer(spec.leaseDurationSeconds),
    acquireTime: parseMicroTime(spec.acquireTime),
    renewTime: parseMicroTime(spec.renewTime),
    leaseTransitions,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    uid: lease.metadata?.uid ?? null,
    ...decodeAnnotations(lease.metadata?.annotations, { holderIdentity, leaseTransitions }),
  };
}
