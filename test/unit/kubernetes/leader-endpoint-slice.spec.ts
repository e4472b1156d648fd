// The leader's EndpointSlice as it is applied: the Service's label and the library's, addressType
// from the leader's address, the Service port's name, one ready endpoint with its Pod as targetRef
// (or none), and options refused naming the rule. The writes themselves run against the real API
// server in test/integration/leader-endpoint-slice.spec.ts. Writes are fenced: the writer's token on
// the slice, refused below a later term's, the read resourceVersion as the apply's precondition.
import { KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { FencingToken, InvalidOptionError, LeaderElectionError } from '../../../lib/core/index.js';
import {
  addressTypeOf,
  LeaderEndpointSlice,
  leaderEndpointSliceBody,
  type LeaderEndpointSliceOptions,
} from '../../../lib/kubernetes/leader-endpoint-slice.js';
import {
  SLICE_FENCING_TOKEN_ANNOTATION,
  sliceFencingToken,
  writtenByLaterTerm,
} from '../../../lib/kubernetes/slice-fencing.js';

const target = {
  namespace: 'apps',
  serviceName: 'billing-leader',
  port: { name: 'grpc', port: 9000 },
};

describe('the leader EndpointSlice body', () => {
  it('names the leader as its only endpoint, ready and serving, its Pod as targetRef', () => {
    const body = leaderEndpointSliceBody(target, 'IPv4', {
      ip: '10.244.0.7',
      podName: 'billing-7d9f-x2',
      podUid: 'u-1',
      nodeName: 'node-a',
    });
    expect(body).toEqual({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'billing-leader',
        namespace: 'apps',
        labels: {
          'kubernetes.io/service-name': 'billing-leader',
          'endpointslice.kubernetes.io/managed-by': 'nestjs-kube-leader',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port: 9000, protocol: 'TCP' }],
      endpoints: [
        {
          addresses: ['10.244.0.7'],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', namespace: 'apps', name: 'billing-7d9f-x2', uid: 'u-1' },
          nodeName: 'node-a',
        },
      ],
    });
  });

  it('keeps its name, labels, address type and port when emptied', () => {
    const body = leaderEndpointSliceBody({ ...target, sliceName: 'billing-slice' }, 'IPv6', null);
    expect(body.metadata?.name).toBe('billing-slice');
    expect(body.metadata?.labels?.['kubernetes.io/service-name']).toBe('billing-leader');
    expect(body.addressType).toBe('IPv6');
    expect(body.ports).toEqual([{ name: 'grpc', port: 9000, protocol: 'TCP' }]);
    expect(body.endpoints).toEqual([]);
  });

  it("takes the address type from the leader's address", () => {
    expect(addressTypeOf('10.244.0.7')).toBe('IPv4');
    expect(addressTypeOf('fd00:10:244::7')).toBe('IPv6');
    expect(() => addressTypeOf('sample-app-0')).toThrow(LeaderElectionError);
    expect(() => addressTypeOf('')).toThrow('"" is not an IP address');
  });
});

describe('LeaderEndpointSlice options', () => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  const options: LeaderEndpointSliceOptions = { kubeConfig, ...target };

  it.each([
    [{ serviceName: 'Billing' }, 'serviceName', 'DNS-1123 label'],
    [{ sliceName: 'a_b' }, 'sliceName', 'DNS-1123 subdomain'],
    [{ namespace: '' }, 'namespace', 'DNS-1123 label'],
    [{ port: { name: 'GRPC', port: 9000 } }, 'port.name', 'DNS-1123 label'],
    [{ port: { name: 'grpc', port: 0 } }, 'port.port', 'from 1 to 65535'],
    [{ port: { name: 'grpc', port: 8080.5 } }, 'port.port', 'from 1 to 65535'],
    [{ port: { name: 'grpc', port: 9000, protocol: 'HTTP' } }, 'port.protocol', '"TCP", "UDP"'],
  ])('refuses %j, naming %s and the rule', (change, option, rule) => {
    let error: unknown;
    try {
      new LeaderEndpointSlice({ ...options, ...change } as LeaderEndpointSliceOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(rule);
  });

  it("accepts an unnamed port (a Service's single port)", () => {
    expect(
      () => new LeaderEndpointSlice({ ...options, port: { name: '', port: 80, protocol: 'UDP' } }),
    ).not.toThrow();
  });
});

describe('fenced slice writes', () => {
  const ours = FencingToken.parse('150');
  const slice = (token?: string): V1EndpointSlice => ({
    addressType: 'IPv4',
    endpoints: [],
    metadata:
      token === undefined ? {} : { annotations: { [SLICE_FENCING_TOKEN_ANNOTATION]: token } },
  });

  it("carries the writer's fencing token and the read resourceVersion as precondition", () => {
    const body = leaderEndpointSliceBody(target, 'IPv4', null, {
      token: ours,
      resourceVersion: '4711',
    });
    expect(body.metadata?.annotations).toEqual({ 'nestjs-kube-leader/fencing-token': '150' });
    expect(body.metadata?.resourceVersion).toBe('4711');
    expect(
      leaderEndpointSliceBody(target, 'IPv4', null, { token: ours }).metadata,
    ).not.toHaveProperty('resourceVersion');
  });

  it('refuses only when a later term wrote the slice', () => {
    expect(writtenByLaterTerm(slice('1000'), ours)?.toString()).toBe('1000');
    expect(writtenByLaterTerm(slice('150'), ours)).toBeUndefined(); // our own term
    expect(writtenByLaterTerm(slice('99'), ours)).toBeUndefined(); // compared as numbers
    expect(writtenByLaterTerm(slice(), ours)).toBeUndefined();
    expect(writtenByLaterTerm(undefined, ours)).toBeUndefined();
    expect(sliceFencingToken(slice('not-a-token'))).toBeUndefined();
  });
});
