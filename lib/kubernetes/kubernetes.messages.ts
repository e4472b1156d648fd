// Texts of the Kubernetes layer about a request that got no answer from the API server.

export const CONNECTION_REFUSED =
  "nothing accepts connections there (is the API server running, and is it the kubeconfig's server?)";

export const NAME_NOT_RESOLVED = "the API server's host name does not resolve (DNS)";

export const TLS_FAILED =
  "TLS with the API server failed (check the kubeconfig's server address (https:// to a port " +
  'without TLS?) and its certificate-authority)';

export const CONNECTION_TIMED_OUT =
  'the connection timed out (a firewall, or an address that nothing answers?)';

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
