export const FORWARDING_OBJECT =
  'LeaderElectionModule.forRoot({ forwarding }) needs an object, e.g. { allHandlers: true }';

export const ADDRESS_RULE =
  'must be an IP address (IPv4 or IPv6, no zone, no host name): the Pod IP, e.g. POD_IP from the downward API (status.podIP)';

export const PORT_RULE = 'must be an integer from 1 to 65535';

export const RANGES_RULE =
  'must be a non-empty array of CIDR ranges, e.g. ["10.0.0.0/8"] (an address alone counts as /32 or /128)';

export const SECRET_RULE = (min: number) =>
  `must be a string of at least ${min} characters (its value is not shown)`;

export const TIMEOUT_RULE = (max: number) => `must be an integer from 1 to ${max} (milliseconds)`;
