import type { CoordinationV1Api } from '@kubernetes/client-node';

// What this library relies on from client-node's request pipeline, written once for 1.x and 2.x.

/** Per-request options of client-node's object API (the same type for every API class). */
export type RequestOptions = Parameters<CoordinationV1Api['readNamespacedLease']>[1];

/** The part of client-node's request context that carries the connection (1.x: agent; 2.x: dispatcher). */
export interface ConnectionContext {
  getAgent?(): unknown;
  setAgent?(agent: unknown): void;
  getDispatcher?(): unknown;
  setDispatcher?(dispatcher: unknown): void;
}

/** The request context a middleware's `pre` receives: connection, abort signal and headers. */
export interface RequestContextLike extends ConnectionContext {
  setSignal(signal: AbortSignal): void;
  setHeaderParam(key: string, value: string): void;
}

/**
 * Per-request options with a middleware that adjusts the request context (abort signal for the
 * elector's request timeout, connection reuse). The object API of client-node (1.x and 2.x) runs each
 * middleware through its own minimal observable stub, which only calls `toPromise()` on what
 * `pre`/`post` return; we answer in that shape.
 */
export function requestOptions(
  pre: (context: RequestContextLike) => void | Promise<void>,
): RequestOptions {
  const options = {
    middleware: [
      {
        pre: (context: RequestContextLike) => ({
          toPromise: async () => {
            await pre(context);
            return context;
          },
        }),
        post: <T>(context: T) => ({ toPromise: () => Promise.resolve(context) }),
      },
    ],
    middlewareMergeStrategy: 'append' as const,
  };
  return options as unknown as RequestOptions;
}
