// Errors of the Nest layer (its elections by name, decorators, testing and metrics helpers). Each is a
// LeaderElectionError.
import { InvalidOptionError, LeaderElectionError } from './core/errors.js';

/** No election of that name is registered: a decorator or a `LeaderService` call names another. */
export class UnknownElectionError extends LeaderElectionError {
  /** `'UnknownElectionError'`, for `instanceof`-free checks and logs. */
  override name = 'UnknownElectionError';
}

/** Two `LeaderElectionModule.forRoot()` of one application give the same `election` name. */
export class DuplicateElectionError extends LeaderElectionError {
  /** `'DuplicateElectionError'`, for `instanceof`-free checks and logs. */
  override name = 'DuplicateElectionError';
}

/** Two elections of one application would use the same Lease (in the same namespace). */
export class LeaseNameTakenError extends LeaderElectionError {
  /** `'LeaseNameTakenError'`, for `instanceof`-free checks and logs. */
  override name = 'LeaseNameTakenError';
}

/**
 * An argument of a decorator or of a method broke its rule, e.g. `@LeaderOnly('')`. Found when the
 * class is decorated (or at the call). Like every {@link InvalidOptionError} it names the argument
 * (`option`), the rule and the value; its message names the call it was given to.
 */
export class InvalidArgumentError extends InvalidOptionError {
  /** `'InvalidArgumentError'`, for `instanceof`-free checks and logs. */
  override name = 'InvalidArgumentError';

  constructor(
    /** Name of the argument, e.g. `'election'`. */
    option: string,
    /** The rule the value broke, e.g. `'must be a non-empty string'`. */
    rule: string,
    value: unknown,
    /** The whole message: it names the decorator or method as it is written. */
    message: string,
  ) {
    super(option, rule, value);
    this.message = message;
  }
}

/**
 * The application uses the library in a way it cannot work: a decorator on something other than a
 * method, a `@LeaderOnly()` method of an instance Nest did not create, a `@LeaderOnly()` job that
 * would be scheduled twice, a metric name taken by another metric, a testing election that is not
 * one or has not started. Found at start-up (or at the first call); the message says what to change.
 */
export class SetupError extends LeaderElectionError {
  /** `'SetupError'`, for `instanceof`-free checks and logs. */
  override name = 'SetupError';
}

/** `LeaderElectionTestingService` waited too long for a change it made (the message says for what). */
export class TestingTimeoutError extends LeaderElectionError {
  /** `'TestingTimeoutError'`, for `instanceof`-free checks and logs. */
  override name = 'TestingTimeoutError';
}
