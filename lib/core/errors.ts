/** Base class of every error this library raises. */
export class LeaderElectionError extends Error {
  /** `'LeaderElectionError'`, for `instanceof`-free checks and logs. */
  override name = 'LeaderElectionError';
}

/** An option failed validation at start-up. The message names the option and the rule. */
export class InvalidOptionError extends LeaderElectionError {
  /** `'InvalidOptionError'`, for `instanceof`-free checks and logs. */
  override name = 'InvalidOptionError';

  /**
   * The rejected value, if the error reports one. Absent otherwise (not `undefined`), so that a
   * logged error shows no `value: undefined` beside an unknown option's name.
   */
  declare readonly value?: unknown;

  constructor(
    /** Name of the option, e.g. `'renewDeadline'`. */
    readonly option: string,
    /** The rule the value broke, e.g. `'must be a boolean'`. */
    readonly rule: string,
    value?: unknown,
  ) {
    super(
      `Invalid leader election option "${option}": ${rule}` +
        (value === undefined ? '' : ` (got ${formatValue(value)})`),
    );
    if (value !== undefined) this.value = value;
  }
}

/** Base class of errors reported by a {@link LeaseLock}. */
export class LockError extends LeaderElectionError {
  /** `'LockError'`, for `instanceof`-free checks and logs. */
  override name = 'LockError';

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** 409: the write was based on a stale resourceVersion, or the object already exists. */
export class LockConflictError extends LockError {
  /** `'LockConflictError'`, for `instanceof`-free checks and logs. */
  override name = 'LockConflictError';
}

/** 404: the Lease does not exist (or was deleted). */
export class LockNotFoundError extends LockError {
  /** `'LockNotFoundError'`, for `instanceof`-free checks and logs. */
  override name = 'LockNotFoundError';
}

/** 410: a watch's resourceVersion is too old; re-read and watch again. */
export class LockGoneError extends LockError {
  /** `'LockGoneError'`, for `instanceof`-free checks and logs. */
  override name = 'LockGoneError';
}

/**
 * 401/403: the credentials may not perform `verb` on `resource`. The message says which RBAC rule
 * is missing, so it can be fixed without reading server logs.
 */
export class LockForbiddenError extends LockError {
  /** `'LockForbiddenError'`, for `instanceof`-free checks and logs. */
  override name = 'LockForbiddenError';

  constructor(
    /** The denied verb, e.g. `'update'`. */
    readonly verb: string,
    /** The resource, e.g. `'leases.coordination.k8s.io'`. */
    readonly resource: string,
    /** Namespace of the request. */
    readonly namespace: string,
    /** The user named by the server's message, or undefined when it names none. */
    readonly user: string | undefined,
    /** What the server said (a bare "Forbidden" is not repeated in the message). */
    readonly serverMessage: string,
    cause?: unknown,
  ) {
    // One wording for every verb: the watch's denial carries no body, so its user comes from an
    // earlier denial (see KubernetesLeaseLock) and a bare status word is not repeated.
    const said = /^(forbidden|unauthorized)$/i.test(serverMessage.trim())
      ? ''
      : ` Server said: ${serverMessage}`;
    super(
      `Forbidden: ${user ? `user "${user}"` : 'the client'} may not "${verb}" ${resource} in namespace "${namespace}". ` +
        `Grant it with a Role rule { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update", "watch"] } ` +
        `bound to this identity in "${namespace}".${said}`,
      cause,
    );
  }
}

/** The server refused the request as invalid (400/422), e.g. a malformed field. */
export class LockRejectedError extends LockError {
  /** `'LockRejectedError'`, for `instanceof`-free checks and logs. */
  override name = 'LockRejectedError';
}

/** The API server could not be reached, answered 5xx/429, or the request timed out. */
export class LockUnavailableError extends LockError {
  /** `'LockUnavailableError'`, for `instanceof`-free checks and logs. */
  override name = 'LockUnavailableError';
}

/**
 * A write was not sent: the library's annotations on the Lease would exceed their size budget (what
 * the API server allows for all annotations of an object, less what the other annotations take).
 * The message names the annotation, its size and the budget.
 */
export class LockAnnotationTooLargeError extends LockError {
  /** `'LockAnnotationTooLargeError'`, for `instanceof`-free checks and logs. */
  override name = 'LockAnnotationTooLargeError';

  constructor(
    message: string,
    /** The largest of the library's annotations in the write, e.g. `'nestjs-kube-leader/members'`. */
    readonly annotation: string,
    /** Bytes that annotation takes (key and value, as the API server counts them). */
    readonly size: number,
    /** Bytes the library's annotations may take together on this Lease. */
    readonly budget: number,
  ) {
    super(message);
  }
}

/** Raised (as an AbortSignal reason or a rejection) when leadership ends or the elector stops. */
export class LeadershipLostError extends LeaderElectionError {
  /** `'LeadershipLostError'`, for `instanceof`-free checks and logs. */
  override name = 'LeadershipLostError';
}

/**
 * A question about an election as a whole (is this instance the leader, step down, ...) asked of
 * an election spread over shares, which has one leader per share: ask per job instead.
 */
export class SpreadElectionError extends LeaderElectionError {
  /** `'SpreadElectionError'`, for `instanceof`-free checks and logs. */
  override name = 'SpreadElectionError';
}

/**
 * The elector is stopped (or stopping) but was asked for what needs it running: `waitForLeadership()`
 * before this instance leads, or a change by `LeaderElectionTestingService` after the app closed.
 */
export class ElectorStoppedError extends LeaderElectionError {
  /** `'ElectorStoppedError'`, for `instanceof`-free checks and logs. */
  override name = 'ElectorStoppedError';
}

/** `Name: message` for an Error, `String(error)` for anything else thrown: for logs and status. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
