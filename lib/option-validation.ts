import { InvalidOptionError } from './core/index.js';
import { UNKNOWN_OPTION } from './leader-election.messages.js';

/**
 * The keys of an options interface `T` as a set. Written as `optionKeys<T>({ a: true, ... })`, so the
 * type checker fails the build when the list misses a key of `T` or names one `T` does not have.
 */
export function optionKeys<T>(keys: Record<keyof T, true>): ReadonlySet<string> {
  return new Set(Object.keys(keys));
}

/**
 * Checks that `options` is an object whose keys are all in `known`, so a typo such as
 * `leaseDurationSec` fails at start-up instead of vanishing. `owner` names the module in the error.
 */
export function assertKnownOptions(
  options: unknown,
  known: ReadonlySet<string>,
  owner: string,
  objectRule: string,
): asserts options is object {
  if (!options || typeof options !== 'object') {
    throw new InvalidOptionError('options', objectRule, options);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new InvalidOptionError(key, UNKNOWN_OPTION(owner, known));
    }
  }
}
