import { InvalidOptionError } from '../core/index.js';
import { isDnsSubdomain } from '../core/spread/shares.js';
import { DNS_LABEL_RULE, DNS_SUBDOMAIN_RULE } from './kubernetes.messages.js';

// Kubernetes name rules, free of client-node: the Nest module checks `leaseName` with them even
// when an app brings its own lock, without loading the Kubernetes client.

/** Throws an {@link InvalidOptionError} unless `value` is a valid DNS-1123 subdomain. */
export function assertDnsSubdomain(option: string, value: unknown): void {
  if (!isDnsSubdomain(value)) {
    throw new InvalidOptionError(option, DNS_SUBDOMAIN_RULE, value);
  }
}

/** Throws unless `value` is a valid namespace name (DNS-1123 label). */
export function assertNamespace(option: string, value: unknown): void {
  assertDnsLabel(option, value);
}

/** Throws an {@link InvalidOptionError} unless `value` is a DNS-1123 label (a Service's name). */
export function assertDnsLabel(option: string, value: unknown): void {
  if (
    typeof value !== 'string' ||
    value.length > 63 ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)
  ) {
    throw new InvalidOptionError(option, DNS_LABEL_RULE, value);
  }
}
