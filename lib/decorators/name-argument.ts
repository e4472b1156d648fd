import { InvalidArgumentError } from '../leader-election.errors.js';
import { DECORATOR_ARGUMENT_NOT_A_NAME, NON_EMPTY_STRING } from '../leader-election.messages.js';

/**
 * Checks a decorator's `election` or `job` argument when the decorator is called: a bad one is a
 * programming error, refused before any class is decorated. `usage` names the decorator as written.
 */
export function checkNameArgument(
  usage: string,
  argument: string,
  value: unknown,
): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(
      argument,
      NON_EMPTY_STRING,
      value,
      DECORATOR_ARGUMENT_NOT_A_NAME(usage, argument, value),
    );
  }
}
