import {
  LockConflictError,
  LockError,
  LockForbiddenError,
  LockGoneError,
  LockNotFoundError,
  LockRejectedError,
  LockUnavailableError,
  type LockOperation,
} from '../core/index.js';
import { describeError } from '../core/errors.js';
import { printable } from '../core/foreign-text.js';
import {
  LEASE_CONFLICT,
  LEASE_NOT_FOUND,
  NAMESPACE_MISSING,
  REQUEST_REJECTED,
  RESOURCE_VERSION_TOO_OLD,
  SERVER_ANSWERED,
  UNAUTHORIZED,
} from './kubernetes.messages.js';
import { redact } from './redact.js';
import { describeTransportFailure, isError } from './transport-failure.js';

/** How much of the API server's own message (a Status) an error keeps. */
const MAX_SERVER_MESSAGE = 1000;

/** What a failed request was doing, for error messages. */
export interface RequestContext {
  readonly verb: LockOperation;
  readonly namespace: string;
  readonly name: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

/**
 * Maps whatever @kubernetes/client-node (1.x or 2.x) threw to a {@link LockError}:
 * `ApiException` (numeric `code`, `body` = raw Status JSON text), a watch error (`statusCode`),
 * transport failures (1.x FetchError with a string `code`, 2.x `TypeError('fetch failed')` with
 * `cause.code`) and aborts (per-request timeout).
 */
export function toLockError(error: unknown, context: RequestContext): LockError {
  if (error instanceof LockError) return error;
  const what = `${context.verb} lease ${context.namespace}/${context.name}`;
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const body = statusBodyOf(error);
    const serverMessage =
      typeof body?.message === 'string'
        ? printable(body.message, MAX_SERVER_MESSAGE)
        : messageOf(error);
    switch (status) {
      case 401:
      case 403:
        return new LockForbiddenError(
          verbFromMessage(serverMessage) ?? context.verb,
          'leases.coordination.k8s.io',
          context.namespace,
          userFromMessage(serverMessage),
          status === 401 ? UNAUTHORIZED(serverMessage) : serverMessage,
          error,
        );
      case 404:
        if (/namespaces? "[^"]+" not found/.test(serverMessage)) {
          return new LockRejectedError(
            NAMESPACE_MISSING(what, context.namespace, serverMessage),
            error,
          );
        }
        return new LockNotFoundError(LEASE_NOT_FOUND(what), error);
      case 409:
        return new LockConflictError(LEASE_CONFLICT(what, serverMessage), error);
      case 410:
        return new LockGoneError(RESOURCE_VERSION_TOO_OLD(what, serverMessage), error);
      case 400:
      case 422:
        return new LockRejectedError(REQUEST_REJECTED(what, status, serverMessage), error);
      default:
        if (status === 429 || status >= 500) {
          return new LockUnavailableError(SERVER_ANSWERED(what, status, serverMessage), error);
        }
        return new LockRejectedError(SERVER_ANSWERED(what, status, serverMessage), error);
    }
  }
  return new LockUnavailableError(`${what}: ${transportMessage(error)}`, error);
}

/**
 * `HTTP <status>: <server message>` for an answer of the API server (client-node's ApiException
 * carries the server's Status as JSON text), {@link describeError} for anything else.
 */
export function describeApiError(error: unknown): string {
  const status = httpStatusOf(error);
  if (status === undefined) return describeError(error);
  const message = statusBodyOf(error)?.message;
  return `HTTP ${status}${typeof message === 'string' && message ? `: ${printable(message, MAX_SERVER_MESSAGE)}` : ''}`;
}

/** The HTTP status of a failed request: `code` of an ApiException, `statusCode` of a watch error. */
export function httpStatusOf(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  // A DOMException (client-node 2.x's fetch, aborted or timed out) has a legacy numeric `code`
  // (20, 23) that is no HTTP status: only 100-599 count.
  const status = (value: unknown) =>
    typeof value === 'number' && value >= 100 && value <= 599 ? value : undefined;
  const candidate = error as { code?: unknown; statusCode?: unknown };
  return status(candidate.code) ?? status(candidate.statusCode);
}

function statusBodyOf(error: unknown): StatusBody | undefined {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed && typeof parsed === 'object' ? (parsed as StatusBody) : undefined;
    } catch {
      // Not a Status: e.g. a proxy's HTML page, which may echo request headers.
      return body ? { message: redact(body) } : undefined;
    }
  }
  if (body && typeof body === 'object') return body as StatusBody;
  return undefined;
}

function messageOf(error: unknown): string {
  return redact(error instanceof Error ? error.message.split('\n')[0] : String(error));
}

/**
 * A failure without an answer of the API server: why ({@link describeTransportFailure}), or that
 * the request was aborted (timed out). Its message may be an exec credential plugin's stderr
 * (client-node rejects with it as is), so it is redacted and capped.
 */
function transportMessage(error: unknown): string {
  if (!isError(error)) return redact(String(error));
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return `request aborted (${redact(error.message)})`;
  }
  return describeTransportFailure(error);
}

/**
 * The verb an RBAC denial names: `... cannot update resource ...`. It can differ from the request's
 * own: the lock creates the Lease with a PUT, which the server checks as `update`, then as `create`.
 */
function verbFromMessage(message: string): string | undefined {
  return /\bcannot (get|create|update|watch|list|patch|delete) resource\b/.exec(message)?.[1];
}

/** Extracts the user from an RBAC denial: `User "alice" cannot update resource ...`. */
function userFromMessage(message: string): string | undefined {
  return /User "([^"]+)"/.exec(message)?.[1];
}
