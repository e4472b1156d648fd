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

export const FORWARD_TIMEOUT = (election: string, timeout: number) =>
  `The leader of "${election}" did not answer the forwarded request within ${timeout} ms; it may have run.`;

export const FORWARD_FAILED = (election: string) =>
  `The connection to the leader of "${election}" broke after the request was sent; it may have run.`;

export const NO_RAW_BODY =
  'This request cannot be forwarded to the leader: its body was parsed and its bytes were not kept. ' +
  'Create the app with NestFactory.create(AppModule, { rawBody: true }) (and app.useBodyParser(type) ' +
  'for body types beyond JSON and URL-encoded forms); multipart bodies are not forwarded.';

export const BAD_SIGNATURE =
  'Forwarded request refused: its signature does not match (forwarding.secret differs between ' +
  'replicas, or the request did not come from a replica).';

export const ADDRESS_NOT_ALLOWED = (election: string, leader: string | null, address: string) =>
  `Not forwarding to the leader of "${election}" (${leader ?? 'unknown'}): its advertised address ${address} ` +
  'is outside forwarding.allowedRanges (anyone who may update the Lease can write it); ' +
  'answering 503 instead. Add the Pod network to forwarding.allowedRanges if the address is right.';

export const NO_ADVERTISED_ADDRESS = (election: string) =>
  `Election "${election}" forwards requests, but this replica has no address to advertise: set POD_IP ` +
  'from the downward API (status.podIP) or forwarding.address. Followers answer 503 while it leads.';

export const NO_LISTENING_PORT = (election: string) =>
  `Election "${election}" forwards requests, but this app has no HTTP server to take the port from: ` +
  'set forwarding.port. Followers answer 503 while it leads.';

export const FORWARD_OPTION = (value: unknown) =>
  `@LeaderOnly({ forward }) must be a boolean (got ${typeof value}).`;

export const FORWARD_WITH_ONCE =
  '@LeaderOnly({ forward: true }) is for HTTP handlers; it cannot be combined with "once" (cron jobs).';

export const FORWARD_NOT_ON_HANDLER = (target: string, key: string) =>
  `@LeaderOnly({ forward: true }) on ${target}.${key}: only HTTP controller handlers forward requests; ` +
  'remove "forward" from this method.';

export const FORWARD_WITHOUT_OPTION = (target: string, key: string, election: string) =>
  `@LeaderOnly({ forward: true }) on ${target}.${key}: the election "${election}" has no "forwarding" ` +
  `option, so its leader advertises no address. Add forwarding: {} (or your settings) to its ` +
  'LeaderElectionModule.forRoot().';

export const BODY_TOO_LARGE = (limit: number) =>
  `Request body too large to forward: at most ${limit} bytes of a body type the app does not parse ` +
  '(parse the type with app.useBodyParser(type, { limit }) and rawBody: true for larger bodies)';
