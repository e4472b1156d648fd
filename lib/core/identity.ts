import { InvalidOptionError } from './errors.js';
import { isPrintableIdentity, MAX_IDENTITY_LENGTH } from './foreign-text.js';

/**
 * Checks a candidate's identity: a non-blank string of printable ASCII of at most 253 characters,
 * so that it goes into the Lease, the `X-Leader` header and log lines as it is. Throws an
 * {@link InvalidOptionError} on `option` that states the rule.
 */
export function assertIdentity(option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(option, 'must be a non-empty string', value);
  }
  if (!isPrintableIdentity(value)) {
    throw new InvalidOptionError(
      option,
      `must be printable ASCII (no control characters), at most ${MAX_IDENTITY_LENGTH} characters: ` +
        'it is sent in the X-Leader header and logged as it is',
      value,
    );
  }
}
