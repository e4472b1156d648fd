import { isIP } from 'node:net';
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { InvalidOptionError, LeaderElectionError, type FencingToken } from '../core/index.js';
import { printable } from '../core/foreign-text.js';
import { requestOptions } from './client-node-compat.js';
import { describeApiError, httpStatusOf } from './errors.js';
import {
  ENDPOINT_SLICE_CHANGED,
  ENDPOINT_SLICE_FENCED,
  ENDPOINT_SLICE_FORBIDDEN,
  ENDPOINT_SLICE_REQUEST_FAILED,
  NOT_AN_IP_ADDRESS,
  PORT_NUMBER_RULE,
  PORT_PROTOCOL_RULE,
} from './kubernetes.messages.js';
import { assertDnsLabel, assertDnsSubdomain, assertNamespace } from './names.js';
import { SLICE_FENCING_TOKEN_ANNOTATION, writtenByLaterTerm } from './slice-fencing.js';

/** The field manager of every apply: `kubectl get endpointslice -o yaml --show-managed-fields`. */
export const ENDPOINT_SLICE_FIELD_MANAGER = 'nestjs-kube-leader';
/** The field manager of the apply that creates the slice (labels, address type and port only). */
export const ENDPOINT_SLICE_CREATE_MANAGER = 'nestjs-kube-leader-create';
/** The label that ties an EndpointSlice to its Service (kube-proxy reads it). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** The label that keeps the EndpointSlice controllers away from a slice they do not manage. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The value of {@link MANAGED_BY_LABEL} on the slices this library writes. */
export const MANAGED_BY = 'nestjs-kube-leader';
const APPLY_PATCH = 'application/apply-patch+yaml';
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** The Service port the slice serves: its name must be the Service port's name. */
export interface LeaderEndpointSlicePort {
  /** The Service port's name (`''` for a Service with one unnamed port). */
  readonly name: string;
  /** The port the leader listens on. */
  readonly port: number;
  /** Default `TCP`. */
  readonly protocol?: (typeof PROTOCOLS)[number];
}

/** Options of a {@link LeaderEndpointSlice}. */
export interface LeaderEndpointSliceOptions {
  /** Cluster access (the same as the lock's). */
  readonly kubeConfig: KubeConfig;
  /** Namespace of the Service and its slice. */
  readonly namespace: string;
  /** The selector-less Service whose only endpoint is the leader. */
  readonly serviceName: string;
  /** The slice's fixed name, the one the Role's `resourceNames` lists. Default: `serviceName`. */
  readonly sliceName?: string;
  /** The port the slice lists. */
  readonly port: LeaderEndpointSlicePort;
  /** Timeout of each request, ms. Default 5000. */
  readonly requestTimeout?: number;
}

/** The leader as the slice names it. */
export interface LeaderEndpoint {
  /** The pod's address (`status.podIP`, e.g. `POD_IP` from the downward API); IPv4 or IPv6. */
  readonly ip: string;
  /** The pod's name (`metadata.name`, e.g. `POD_NAME`): the endpoint's `targetRef`. */
  readonly podName: string;
  /** The pod's `metadata.uid`, when known. */
  readonly podUid?: string;
  /** The node the pod runs on (`spec.nodeName`), when known. */
  readonly nodeName?: string;
}

/** A write of the leader's EndpointSlice failed; the message says why (and which rule a 403 needs). */
export class EndpointSliceWriteError extends LeaderElectionError {
  /** `'EndpointSliceWriteError'`, for `instanceof`-free checks and logs. */
  override name = 'EndpointSliceWriteError';

  constructor(
    message: string,
    /** The API server's HTTP status, if it answered. */
    readonly status: number | undefined,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/**
 * A write of the leader's EndpointSlice refused because a later term wrote the slice (its fencing
 * token is higher than ours) or the slice changed between our read and our write: the writer no
 * longer leads, and the later leader's write stands.
 */
export class EndpointSliceFencedError extends EndpointSliceWriteError {
  /** `'EndpointSliceFencedError'`. */
  override name = 'EndpointSliceFencedError';
}

/** `IPv4` or `IPv6`, as an EndpointSlice's `addressType` says; throws for anything else. */
export function addressTypeOf(ip: string): 'IPv4' | 'IPv6' {
  const family = isIP(ip);
  if (family === 4) return 'IPv4';
  if (family === 6) return 'IPv6';
  throw new LeaderElectionError(NOT_AN_IP_ADDRESS(printable(String(ip), 64)));
}

/**
 * The slice as this library applies it: the Service's label and ours, the port under the Service
 * port's name, and the leader as its only endpoint (ready, serving, not terminating, its Pod as
 * `targetRef`), or no endpoint at all.
 */
export function leaderEndpointSliceBody(
  options: Pick<LeaderEndpointSliceOptions, 'namespace' | 'serviceName' | 'sliceName' | 'port'>,
  addressType: 'IPv4' | 'IPv6',
  leader: LeaderEndpoint | null,
  fencing?: { readonly token: FencingToken; readonly resourceVersion?: string },
): V1EndpointSlice {
  const { namespace, serviceName, port } = options;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: options.sliceName ?? serviceName,
      namespace,
      labels: { [SERVICE_NAME_LABEL]: serviceName, [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(fencing
        ? { annotations: { [SLICE_FENCING_TOKEN_ANNOTATION]: fencing.token.toString() } }
        : {}),
      // An apply with a resourceVersion is conditional: a write in between makes it fail (409).
      ...(fencing?.resourceVersion ? { resourceVersion: fencing.resourceVersion } : {}),
    },
    addressType,
    ports: [{ name: port.name, port: port.port, protocol: port.protocol ?? 'TCP' }],
    endpoints: leader
      ? [
          {
            addresses: [leader.ip],
            conditions: { ready: true, serving: true, terminating: false },
            targetRef: {
              kind: 'Pod',
              namespace,
              name: leader.podName,
              ...(leader.podUid ? { uid: leader.podUid } : {}),
            },
            ...(leader.nodeName ? { nodeName: leader.nodeName } : {}),
          },
        ]
      : [],
  };
}

/**
 * The EndpointSlice of a selector-less Service whose only endpoint is the leader, written by
 * server-side apply (field manager `nestjs-kube-leader`, forced) to the slice's fixed name. Every
 * write is fenced: it carries the writer's fencing token (annotation
 * `nestjs-kube-leader/fencing-token`), is refused when the slice holds a higher one, and is applied
 * with the resourceVersion it read as precondition, so a delayed write of a former leader cannot
 * point the Service back at it (a slice that does not exist is first created without endpoint or
 * token, so that the write that follows has a resourceVersion). An
 * apply to a name is authorized as `create` of that name while the slice does not exist, and as
 * `patch` once it does, so a Role can name the slice (a POST create cannot be limited by name).
 *
 * RBAC needed in the namespace: `get`, `create` and `patch` on `endpointslices`
 * (API group `discovery.k8s.io`), `resourceNames` [the slice's name].
 */
export class LeaderEndpointSlice {
  private readonly api: DiscoveryV1Api;
  private readonly sliceName: string;
  private readonly requestTimeout: number;
  /** The slice's `addressType` (immutable once created), as this instance last wrote or read it. */
  private addressType: 'IPv4' | 'IPv6' | undefined;

  constructor(private readonly options: LeaderEndpointSliceOptions) {
    assertNamespace('namespace', options.namespace);
    assertDnsLabel('serviceName', options.serviceName);
    this.sliceName = options.sliceName ?? options.serviceName;
    assertDnsSubdomain('sliceName', this.sliceName);
    const { name, port, protocol } = options.port;
    if (name !== '') assertDnsLabel('port.name', name);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new InvalidOptionError('port.port', PORT_NUMBER_RULE, port);
    }
    if (protocol !== undefined && !PROTOCOLS.includes(protocol)) {
      throw new InvalidOptionError('port.protocol', PORT_PROTOCOL_RULE, protocol);
    }
    this.api = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.requestTimeout = options.requestTimeout ?? 5_000;
  }

  /**
   * Makes `leader` the slice's only endpoint (creating the slice if it does not exist), as the term
   * of fencing token `token`. Rejects with an {@link EndpointSliceFencedError} when a later term
   * wrote the slice, or it changed since it was read.
   */
  async write(leader: LeaderEndpoint, token: FencingToken): Promise<V1EndpointSlice> {
    const addressType = addressTypeOf(leader.ip);
    const written = await this.fencedApply(token, () => addressType, leader);
    this.addressType = addressType;
    return written as V1EndpointSlice; // an address type was given: always applied
  }

  /**
   * Leaves the slice without endpoints, as the term of `token` (fenced like {@link write});
   * nothing to do when it does not exist.
   */
  async clear(token: FencingToken): Promise<V1EndpointSlice | undefined> {
    return this.fencedApply(token, (stored) => stored ?? this.addressType, null);
  }

  /** The slice as stored, or undefined when it does not exist. */
  async read(): Promise<V1EndpointSlice | undefined> {
    try {
      return await this.api.readNamespacedEndpointSlice(
        { name: this.sliceName, namespace: this.options.namespace },
        requestOptions((context) => context.setSignal(AbortSignal.timeout(this.requestTimeout))),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw this.failure('get', error);
    }
  }

  /**
   * Reads the slice, refuses when a later term wrote it, and applies `leader` (or no endpoint) with
   * the read resourceVersion as precondition. `addressTypeFor` gets the stored slice's address
   * type; undefined: nothing to write (clearing a slice that does not exist).
   */
  private async fencedApply(
    token: FencingToken,
    addressTypeFor: (stored: string | undefined) => string | undefined,
    leader: LeaderEndpoint | null,
  ): Promise<V1EndpointSlice | undefined> {
    let stored = await this.read();
    const what = `apply endpointslice ${this.options.namespace}/${this.sliceName}`;
    const refuseIfLater = (slice: V1EndpointSlice | undefined) => {
      const later = writtenByLaterTerm(slice, token);
      if (!later) return;
      throw new EndpointSliceFencedError(
        ENDPOINT_SLICE_FENCED(what, token.toString(), later.toString()),
        undefined,
      );
    };
    refuseIfLater(stored);
    const addressType = addressTypeFor(stored?.addressType);
    if (addressType !== 'IPv4' && addressType !== 'IPv6') return undefined;
    if (!stored) {
      // An apply that creates has no resourceVersion to give: create the slice first with its
      // labels and port only, under a field manager of its own, which changes nothing a later
      // term's leader may have written meanwhile (endpoints and token are another manager's).
      const { endpoints: _endpoints, ...skeleton } = leaderEndpointSliceBody(
        this.options,
        addressType,
        null,
      );
      stored = await this.apply(skeleton as V1EndpointSlice, ENDPOINT_SLICE_CREATE_MANAGER);
      refuseIfLater(stored);
    }
    const body = leaderEndpointSliceBody(this.options, addressType, leader, {
      token,
      resourceVersion: stored.metadata?.resourceVersion,
    });
    return this.apply(body);
  }

  private async apply(
    body: V1EndpointSlice,
    fieldManager = ENDPOINT_SLICE_FIELD_MANAGER,
  ): Promise<V1EndpointSlice> {
    try {
      return await this.api.patchNamespacedEndpointSlice(
        {
          name: this.sliceName,
          namespace: this.options.namespace,
          body,
          fieldManager,
          force: true,
        },
        requestOptions((context) => {
          // client-node serializes the body as JSON, which is YAML too.
          context.setHeaderParam('Content-Type', APPLY_PATCH);
          context.setSignal(AbortSignal.timeout(this.requestTimeout));
        }),
      );
    } catch (error) {
      if (httpStatusOf(error) === 409) {
        const what = `apply endpointslice ${this.options.namespace}/${this.sliceName}`;
        throw new EndpointSliceFencedError(ENDPOINT_SLICE_CHANGED(what), 409, error);
      }
      throw this.failure('apply', error);
    }
  }

  private failure(verb: 'get' | 'apply', error: unknown): EndpointSliceWriteError {
    const { namespace } = this.options;
    const what = `${verb} endpointslice ${namespace}/${this.sliceName}`;
    const status = httpStatusOf(error);
    const message =
      status === 401 || status === 403
        ? ENDPOINT_SLICE_FORBIDDEN(what, namespace, this.sliceName, describeApiError(error))
        : ENDPOINT_SLICE_REQUEST_FAILED(what, describeApiError(error));
    return new EndpointSliceWriteError(message, status, error);
  }
}
