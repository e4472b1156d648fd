// Texts of the Kubernetes layer: its errors, log lines and option rules.

// A request that got no answer from the API server.

export const CONNECTION_REFUSED =
  "nothing accepts connections there (is the API server running, and is it the kubeconfig's server?)";

export const NAME_NOT_RESOLVED = "the API server's host name does not resolve (DNS)";

export const TLS_FAILED =
  "TLS with the API server failed (check the kubeconfig's server address (https:// to a port " +
  'without TLS?) and its certificate-authority)';

export const CONNECTION_TIMED_OUT =
  'the connection timed out (a firewall, or an address that nothing answers?)';

// A request the API server answered with an error (`what`: e.g. `update lease ns/name`).

export const NAMESPACE_MISSING = (what: string, namespace: string, serverMessage: string) =>
  `${what}: namespace "${namespace}" does not exist (${serverMessage})`;

export const LEASE_NOT_FOUND = (what: string) => `${what}: not found`;

export const LEASE_CONFLICT = (what: string, serverMessage: string) =>
  `${what}: conflict (${serverMessage})`;

export const RESOURCE_VERSION_TOO_OLD = (what: string, serverMessage: string) =>
  `${what}: resource version too old (${serverMessage})`;

export const REQUEST_REJECTED = (what: string, status: number, serverMessage: string) =>
  `${what}: rejected with ${status} (${serverMessage})`;

export const SERVER_ANSWERED = (what: string, status: number, serverMessage: string) =>
  `${what}: server answered ${status} (${serverMessage})`;

export const UNAUTHORIZED = (serverMessage: string) => `401 Unauthorized: ${serverMessage}`;

// Events on the Lease (lease-event-recorder.ts).

export const EVENT_NOT_RECORDED_AGAIN = (message: string, error: string) =>
  `Could not record Event "${message}": ${error}`;

export const EVENT_NOT_RECORDED = (
  message: string,
  namespace: string,
  leaseName: string,
  error: string,
  forbidden: boolean,
) =>
  `Could not record Event "${message}" on lease ${namespace}/${leaseName} (${error}). ` +
  (forbidden
    ? `Grant it with a Role rule { apiGroups: [""], resources: ["events"], verbs: ["create"] } in "${namespace}". `
    : '') +
  'The election is not affected; further failures are logged at debug level until one succeeds.';

export const UNKNOWN_ERROR = 'unknown error';

// The kubeconfig, the namespace and the installed client-node (defaults.ts, client-node-support.ts).

export const KUBECONFIG_NOT_FOUND = (noKubeConfig: string, tokenFile: string) =>
  `${noKubeConfig} (no ${tokenFile}). Point KUBECONFIG at a cluster, or develop ` +
  "without one with the module option local: 'if-no-kubeconfig' (the README's \"Running locally\")";

export const KUBECONFIG_NOT_LOADED = (why: string) =>
  `could not load the default kubeconfig (KUBECONFIG, ~/.kube/config or the in-cluster service account): ${why}`;

export const INVALID_YAML = (reason: string, line: number, column: number | undefined) =>
  `invalid YAML: ${reason} at line ${line}${column === undefined ? '' : `, column ${column}`}`;

export const NAMESPACE_FROM_SERVICE_ACCOUNT = (file: string) => `the service account (${file})`;

export const NAMESPACE_FROM_CONTEXT = (context: string) => `the kubeconfig context "${context}"`;

export const NAMESPACE_BY_DEFAULT = (context: string) =>
  `the default: the kubeconfig context "${context}" sets none`;

export const UNPARSABLE_SERVER = 'an API server with an unparsable address';

export const CLIENT_NODE_NEEDS_NEWER_NODE = (
  pkg: string,
  version: string,
  minimum: string | undefined,
  node: string,
  fallbackRange: string,
) =>
  `${pkg} ${version} needs Node >= ${minimum}, but this process runs Node ` +
  `${node}. Install the client-node that supports it: ` +
  `npm install ${pkg}@${fallbackRange} (or run on Node ${minimum} or later).`;

// The leader's EndpointSlice (leader-endpoint-slice.ts).

export const ENDPOINT_SLICE_FORBIDDEN = (
  what: string,
  namespace: string,
  slice: string,
  error: string,
) =>
  `${what}: ${error}. Grant it with a Role rule { apiGroups: ["discovery.k8s.io"], ` +
  `resources: ["endpointslices"], resourceNames: ["${slice}"], verbs: ["get", "create", "patch"] } ` +
  `in "${namespace}"`;

export const ENDPOINT_SLICE_REQUEST_FAILED = (what: string, error: string) => `${what}: ${error}`;

export const ENDPOINT_SLICE_FENCED = (what: string, ours: string, theirs: string) =>
  `${what}: refused, the slice was written by a later term (fencing token ${theirs}, ours ${ours}); ` +
  `this replica no longer leads`;

export const ENDPOINT_SLICE_CHANGED = (what: string) =>
  `${what}: refused, the slice changed since it was read (another writer came in between); ` +
  `a later leader's write stands`;

export const NOT_AN_IP_ADDRESS = (value: string) =>
  `"${value}" is not an IP address: the leader's endpoint needs its pod's IPv4 or IPv6 address (status.podIP)`;

export const PORT_NUMBER_RULE = 'must be an integer from 1 to 65535';

export const PORT_PROTOCOL_RULE = 'must be "TCP", "UDP" or "SCTP"';

// Kubernetes name rules (names.ts).

export const DNS_SUBDOMAIN_RULE =
  'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters';

export const DNS_LABEL_RULE =
  'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';

/** What a write refused for the size of the library's annotations says (nothing was sent). */
export const annotationTooLarge = (size: {
  readonly request: string;
  readonly annotation: string;
  readonly size: number;
  readonly total: number;
  readonly budget: number;
  readonly foreign: number;
  readonly limit: number;
  readonly margin: number;
}) =>
  `${size.request}: not sent: annotation "${size.annotation}" would take ${size.size} bytes ` +
  `(${size.total} for all of this library's annotations), over their budget of ${size.budget} bytes ` +
  `on this Lease: the API server allows ${size.limit} bytes for all annotations of an object, ` +
  `other annotations take ${size.foreign}, and ${size.margin} are left free for them`;
