import { InvalidOptionError } from '../core/index.js';
import { isDnsSubdomain } from '../core/spread/shares.js';

// Kubernetes name rules, free of client-node: the Nest module checks `leaseName` with them even
// when an app brings its own lock, without loading the Kubernetes client.

/** Throws an {@link InvalidOptionError} unless `value` is a valid DNS-1123 subdomain. */
export function assertDnsSubdomain(option: string, value: unknown): void {
  if (!isDnsSubdomain(value)) {
    throw new InvalidOptionError(
      option,
      'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters',
      value,
    );
  }
}

/** Throws unless `value` is a valid namespace name (DNS-1123 label). */
export function assertNamespace(option: string, value: unknown): void {
  if (
    typeof value !== 'string' ||
    value.length > 63 ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)
  ) {
    throw new InvalidOptionError(
      option,
      'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
      value,
    );
  }
}
