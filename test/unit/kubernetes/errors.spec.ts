// What a failed request to the API server becomes, as a table in the style of client-go's
// leaselock_test.go: one row per thing client-node (1.x or 2.x) throws, built with client-node's own
// error classes and the Status bodies a kube-apiserver sends. No network.
import { AbortError, ApiException, FetchError } from '@kubernetes/client-node';
import {
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockGoneError,
  LockNotFoundError,
  LockRejectedError,
  LockUnavailableError,
} from '../../../lib/core/index.js';
import {
  describeApiError,
  httpStatusOf,
  toLockError,
  type RequestContext,
} from '../../../lib/kubernetes/errors.js';

const CONTEXT: RequestContext = { verb: 'update', namespace: 'apps', name: 'billing-leader' };
const HEADERS = { 'content-type': 'application/json', 'audit-id': '5f1c0f4e' };

/** A metav1.Status as the API server writes it. */
function status(code: number, reason: string, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details: { name: 'billing-leader', group: 'coordination.k8s.io', kind: 'leases' },
    code,
  });
}

/**
 * What the generated object API throws for a non-2xx answer (1.x and 2.x alike): `code` is the
 * status, `body` the raw response text. A 401 carries no body (the generated code special-cases it).
 */
function apiException(code: number, reason?: string, message?: string): ApiException<unknown> {
  if (code === 401) return new ApiException(401, 'Unauthorized', undefined, HEADERS);
  return new ApiException(
    code,
    'Unknown API Status Code!',
    status(code, reason ?? 'Unknown', message ?? ''),
    HEADERS,
  );
}

/** What client-node's Watch throws when the watch request is answered with a non-200 status. */
function watchError(statusCode: number, statusText: string): Error {
  return Object.assign(new Error(statusText), { statusCode });
}

/** client-node 2.x (native fetch / undici): the transport failure is the cause. */
function fetchFailed(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

const FORBIDDEN_MESSAGE =
  'leases.coordination.k8s.io "billing-leader" is forbidden: User "system:serviceaccount:apps:billing" ' +
  'cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "apps"';

type ErrorClass = new (...args: never[]) => LockError;

interface Row {
  name: string;
  thrown: unknown;
  status: number | undefined;
  expected: ErrorClass;
  /** Fragments the message must contain. */
  says?: string[];
}

const rows: Row[] = [
  {
    name: '404 Lease not found',
    thrown: apiException(404, 'NotFound', 'leases.coordination.k8s.io "billing-leader" not found'),
    status: 404,
    expected: LockNotFoundError,
    says: ['update lease apps/billing-leader: not found'],
  },
  {
    name: '404 for a missing namespace is a configuration error, not a missing Lease',
    thrown: apiException(404, 'NotFound', 'namespaces "apps" not found'),
    status: 404,
    expected: LockRejectedError,
    says: ['namespace "apps" does not exist'],
  },
  {
    name: '409 stale resourceVersion',
    thrown: apiException(
      409,
      'Conflict',
      'Operation cannot be fulfilled on leases.coordination.k8s.io "billing-leader": the object has been modified; please apply your changes to the latest version and try again',
    ),
    status: 409,
    expected: LockConflictError,
    says: ['conflict', 'the object has been modified'],
  },
  {
    name: '409 already exists (create)',
    thrown: apiException(
      409,
      'AlreadyExists',
      'leases.coordination.k8s.io "billing-leader" already exists',
    ),
    status: 409,
    expected: LockConflictError,
    says: ['already exists'],
  },
  {
    name: '410 resource version too old',
    thrown: apiException(410, 'Expired', 'too old resource version: 100 (4711)'),
    status: 410,
    expected: LockGoneError,
    says: ['too old resource version: 100 (4711)'],
  },
  {
    name: '410 on a watch (statusCode, no body)',
    thrown: watchError(410, 'Gone'),
    status: 410,
    expected: LockGoneError,
    says: ['Gone'],
  },
  {
    name: '403 RBAC denial',
    thrown: apiException(403, 'Forbidden', FORBIDDEN_MESSAGE),
    status: 403,
    expected: LockForbiddenError,
    says: ['user "system:serviceaccount:apps:billing"', '"update"', 'namespace "apps"'],
  },
  {
    name: '403 on a watch (statusCode, no body)',
    thrown: watchError(403, 'Forbidden'),
    status: 403,
    expected: LockForbiddenError,
    says: ['the client may not "update"'],
  },
  {
    name: '401 (the generated API throws it without a body)',
    thrown: apiException(401),
    status: 401,
    expected: LockForbiddenError,
    says: ['401 Unauthorized'],
  },
  {
    name: '401 on a watch',
    thrown: watchError(401, 'Unauthorized'),
    status: 401,
    expected: LockForbiddenError,
    says: ['401 Unauthorized: Unauthorized'],
  },
  {
    name: '400 bad request (e.g. a MicroTime the server cannot parse)',
    thrown: apiException(
      400,
      'BadRequest',
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-11-30T12:00:00.000Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"',
    ),
    status: 400,
    expected: LockRejectedError,
    says: ['rejected with 400', 'cannot be handled as a Lease'],
  },
  {
    name: '422 invalid',
    thrown: apiException(
      422,
      'Invalid',
      'Lease.coordination.k8s.io "billing-leader" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    ),
    status: 422,
    expected: LockRejectedError,
    says: ['rejected with 422', 'must be greater than 0'],
  },
  {
    name: 'another 4xx (405) is rejected, not retried as unavailable',
    thrown: apiException(405, 'MethodNotAllowed', 'the server does not allow this method'),
    status: 405,
    expected: LockRejectedError,
    says: ['server answered 405'],
  },
  {
    name: '429 too many requests',
    thrown: apiException(429, 'TooManyRequests', 'Too many requests, please try again later.'),
    status: 429,
    expected: LockUnavailableError,
    says: ['server answered 429'],
  },
  {
    name: '500 internal error',
    thrown: apiException(
      500,
      'InternalError',
      'Internal error occurred: etcdserver: leader changed',
    ),
    status: 500,
    expected: LockUnavailableError,
    says: ['server answered 500', 'etcdserver: leader changed'],
  },
  {
    name: '503 service unavailable on a watch',
    thrown: watchError(503, 'Service Unavailable'),
    status: 503,
    expected: LockUnavailableError,
    says: ['server answered 503'],
  },
  {
    name: '504 timeout',
    thrown: apiException(504, 'Timeout', 'Timeout: request did not complete within 34s'),
    status: 504,
    expected: LockUnavailableError,
  },
  {
    name: 'a body that is not JSON (a proxy in front of the API server) is the message',
    thrown: new ApiException(502, 'Unknown API Status Code!', 'Bad Gateway', HEADERS),
    status: 502,
    expected: LockUnavailableError,
    says: ['(Bad Gateway)'],
  },
  {
    name: 'a Status body already parsed to an object',
    thrown: Object.assign(new Error('conflict'), {
      code: 409,
      body: { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' },
    }),
    status: 409,
    expected: LockConflictError,
    says: ['the object has been modified'],
  },
  {
    name: '1.x: connection refused (node-fetch FetchError, string code)',
    thrown: new FetchError(
      'request to https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/apps/leases/billing-leader failed, reason: connect ECONNREFUSED 127.0.0.1:6443',
      'system',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
    ),
    status: undefined,
    expected: LockUnavailableError,
    says: ['ECONNREFUSED'],
  },
  {
    name: '1.x: DNS failure',
    thrown: new FetchError(
      'request to https://kubernetes.default.svc/ failed, reason: getaddrinfo ENOTFOUND kubernetes.default.svc',
      'system',
      Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
    ),
    status: undefined,
    expected: LockUnavailableError,
    says: ['ENOTFOUND'],
  },
  {
    name: '1.x: aborted request (node-fetch AbortError)',
    thrown: new AbortError('The user aborted a request.'),
    status: undefined,
    expected: LockUnavailableError,
    says: ['request aborted'],
  },
  {
    name: '2.x: connection refused (TypeError fetch failed, cause.code)',
    thrown: fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6443'),
    status: undefined,
    expected: LockUnavailableError,
    says: ['connect ECONNREFUSED 127.0.0.1:6443: nothing accepts connections there'],
  },
  {
    name: '2.x: connection reset',
    thrown: fetchFailed('ECONNRESET', 'other side closed'),
    status: undefined,
    expected: LockUnavailableError,
    says: ['ECONNRESET'],
  },
  {
    name: 'something thrown that is not an Error',
    thrown: 'socket hang up',
    status: undefined,
    expected: LockUnavailableError,
    says: ['socket hang up'],
  },
  {
    name: 'undefined thrown',
    thrown: undefined,
    status: undefined,
    expected: LockUnavailableError,
  },
];

describe('toLockError', () => {
  it.each(rows)('$name', ({ thrown, status, expected, says = [] }) => {
    expect(httpStatusOf(thrown)).toBe(status);
    const error = toLockError(thrown, CONTEXT);
    expect(error).toBeInstanceOf(expected);
    expect(error.name).toBe(expected.name);
    expect(error.cause).toBe(thrown);
    expect(error.message).toContain(`${CONTEXT.verb}`);
    for (const fragment of says) expect(error.message).toContain(fragment);
  });

  it('keeps a LockError as it is (e.g. the elector aborted with one as the reason)', () => {
    const reason = new LockUnavailableError('request timed out after 5000 ms');
    expect(toLockError(reason, CONTEXT)).toBe(reason);
  });

  it.each([
    ['update', 'system:serviceaccount:apps:billing', FORBIDDEN_MESSAGE],
    [
      'watch',
      'alice',
      'leases.coordination.k8s.io is forbidden: User "alice" cannot watch resource "leases" in API group "coordination.k8s.io" in the namespace "apps"',
    ],
    [
      'create',
      'system:anonymous',
      'leases.coordination.k8s.io is forbidden: User "system:anonymous" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "apps"',
    ],
    ['get', undefined, 'forbidden by an admission webhook'],
  ] as const)('403 on %s names verb, resource, namespace and user %j', (verb, user, message) => {
    const error = toLockError(apiException(403, 'Forbidden', message), { ...CONTEXT, verb });
    expect(error).toBeInstanceOf(LockForbiddenError);
    const forbidden = error as LockForbiddenError;
    expect(forbidden.verb).toBe(verb);
    expect(forbidden.resource).toBe('leases.coordination.k8s.io');
    expect(forbidden.namespace).toBe('apps');
    expect(forbidden.user).toBe(user);
    expect(forbidden.message).toContain(`may not "${verb}" leases.coordination.k8s.io`);
    expect(forbidden.message).toContain(user ? `user "${user}"` : 'the client');
    expect(forbidden.message).toContain(message);
  });

  // client-node 2.x uses the platform's fetch: an aborted or timed-out request rejects with a
  // DOMException, whose legacy numeric `code` (20 ABORT_ERR, 23 TIMEOUT_ERR) is no HTTP status.
  // (It was taken for one: "rejected: server answered 23", not retried by LeaseEventRecorder.)
  it.each([
    ['AbortError', 'This operation was aborted'],
    ['TimeoutError', 'The operation was aborted due to timeout'],
  ])('2.x: a DOMException %s is unavailable, not an HTTP status', (name, message) => {
    const thrown = new DOMException(message, name);
    expect(httpStatusOf(thrown)).toBeUndefined();
    expect(toLockError(thrown, CONTEXT)).toBeInstanceOf(LockUnavailableError);
  });
});

describe('httpStatusOf', () => {
  it.each([
    ['ApiException: numeric code', apiException(409, 'Conflict', 'x'), 409],
    ['watch error: statusCode', watchError(404, 'Not Found'), 404],
    ['a numeric code wins over statusCode', { code: 500, statusCode: 404 }, 500],
    ['a string code is a transport error', { code: 'ECONNRESET' }, undefined],
    ['a string statusCode is not a status', { statusCode: '404' }, undefined],
    ['null', null, undefined],
    ['a string', 'HTTP 404', undefined],
    ['a number', 404, undefined],
  ])('%s', (_name, thrown, expected) => {
    expect(httpStatusOf(thrown)).toBe(expected);
  });
});

describe('describeApiError', () => {
  it.each([
    [
      'an answer with a Status: its message',
      apiException(409, 'Conflict', 'the object has been modified'),
      'HTTP 409: the object has been modified',
    ],
    ['an answer without a body: the status alone', apiException(401), 'HTTP 401'],
    ['a watch error: the status alone', watchError(503, 'Service Unavailable'), 'HTTP 503'],
    [
      'a body that is not JSON: the body',
      new ApiException(502, 'x', 'Bad Gateway', HEADERS),
      'HTTP 502: Bad Gateway',
    ],
    [
      'a transport failure: name and message',
      fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED'),
      'TypeError: fetch failed',
    ],
    ['something that is not an Error', 'boom', 'boom'],
  ])('%s', (_name, thrown, expected) => {
    expect(describeApiError(thrown)).toBe(expected);
  });
});
