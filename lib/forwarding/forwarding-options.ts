import { InvalidOptionError } from '../core/index.js';
import { optionKeys, assertKnownOptions } from '../option-validation.js';
import { AllowedRanges, DEFAULT_ALLOWED_RANGES, invalidRange, parseIp } from './address-ranges.js';
import * as messages from './forwarding.messages.js';

/**
 * The module's `forwarding` option: followers forward requests for `@LeaderOnly` HTTP handlers to
 * the leader instead of answering 503 (see docs/forwarding.md). Every replica advertises where it
 * serves them while it leads.
 */
export interface ForwardingOptions {
  /**
   * Forward every `@LeaderOnly` HTTP handler of the election (`@LeaderOnly({ forward: false })`
   * opts one out); else only those marked `@LeaderOnly({ forward: true })`.
   * @default `false`
   */
  readonly allHandlers?: boolean;
  /**
   * The IP address other replicas reach this one at (set `POD_IP` from the downward API's
   * `status.podIP`).
   * @default the `POD_IP` environment variable
   */
  readonly address?: string;
  /**
   * The port other replicas reach this one at.
   * @default the port the app's HTTP server listens on
   */
  readonly port?: number;
  /**
   * CIDR ranges a follower forwards to: a leader address outside them (anyone who may update the
   * Lease can write one) is never used. Loopback, link-local, multicast and the metadata address
   * are refused unless a range within them is listed.
   * @default `['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']`
   */
  readonly allowedRanges?: readonly string[];
  /**
   * A secret shared by the replicas (at least 32 characters): followers sign forwarded requests
   * (HMAC-SHA256 of method, target and body) and the leader refuses forwarded requests without a
   * valid signature (403). Never logged.
   * @default none
   */
  readonly secret?: string;
  /**
   * Milliseconds a follower waits for the leader's answer to begin; then it answers 504 (the
   * request may have run).
   * @default `10000`
   */
  readonly timeout?: number;
}

/** {@link ForwardingOptions} checked, with their defaults. */
export interface ResolvedForwarding {
  readonly allHandlers: boolean;
  /** Undefined: `POD_IP` unset and no `address`; this replica then advertises nothing. */
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly allowed: AllowedRanges;
  readonly secret: string | undefined;
  readonly timeout: number;
}

const KNOWN = optionKeys<ForwardingOptions>({
  allHandlers: true,
  address: true,
  port: true,
  allowedRanges: true,
  secret: true,
  timeout: true,
});

const MIN_SECRET_LENGTH = 32;
const MAX_TIMEOUT = 10 * 60 * 1000;

/** Checks the `forwarding` option (an InvalidOptionError naming option and rule) and fills defaults. */
export function resolveForwarding(
  options: ForwardingOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedForwarding | undefined {
  if (options === undefined) return undefined;
  assertKnownOptions(options, KNOWN, 'forwarding', messages.FORWARDING_OBJECT);
  const { allHandlers, port, allowedRanges, secret, timeout } = options;
  if (allHandlers !== undefined && typeof allHandlers !== 'boolean') {
    throw new InvalidOptionError('forwarding.allHandlers', 'must be a boolean', allHandlers);
  }
  const address = options.address ?? (env.POD_IP || undefined);
  if (address !== undefined && (typeof address !== 'string' || !parseIp(address))) {
    const option = options.address === undefined ? 'POD_IP' : 'forwarding.address';
    throw new InvalidOptionError(option, messages.ADDRESS_RULE, address);
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new InvalidOptionError('forwarding.port', messages.PORT_RULE, port);
  }
  const ranges = allowedRanges ?? DEFAULT_ALLOWED_RANGES;
  if (!Array.isArray(ranges) || ranges.length === 0) {
    throw new InvalidOptionError('forwarding.allowedRanges', messages.RANGES_RULE, allowedRanges);
  }
  const bad = invalidRange(ranges);
  if (bad !== undefined) {
    throw new InvalidOptionError('forwarding.allowedRanges', messages.RANGES_RULE, bad);
  }
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)) {
    // The value is never shown: it may be a real secret, only too short.
    throw new InvalidOptionError('forwarding.secret', messages.SECRET_RULE(MIN_SECRET_LENGTH));
  }
  const wait = timeout ?? 10_000;
  if (!Number.isSafeInteger(wait) || wait < 1 || wait > MAX_TIMEOUT) {
    throw new InvalidOptionError('forwarding.timeout', messages.TIMEOUT_RULE(MAX_TIMEOUT), timeout);
  }
  return {
    allHandlers: allHandlers ?? false,
    address,
    port,
    allowed: new AllowedRanges(ranges),
    secret,
    timeout: wait,
  };
}
