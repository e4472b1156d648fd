// Texts of the Kubernetes layer about a request that got no answer from the API server.

export const CONNECTION_REFUSED =
  "nothing accepts connections there (is the API server running, and is it the kubeconfig's server?)";

export const NAME_NOT_RESOLVED = "the API server's host name does not resolve (DNS)";

export const TLS_FAILED =
  "TLS with the API server failed (check the kubeconfig's server address (https:// to a port " +
  'without TLS?) and its certificate-authority)';

export const CONNECTION_TIMED_OUT =
  'the connection timed out (a firewall, or an address that nothing answers?)';
