// Errors of the Nest layer: its elections by name. Each is a LeaderElectionError.
import { LeaderElectionError } from './core/errors.js';

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
