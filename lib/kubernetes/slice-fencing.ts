import type { V1EndpointSlice } from '@kubernetes/client-node';
import { FencingToken } from '../core/index.js';

/**
 * The annotation on the leader's EndpointSlice holding the fencing token of the term that last wrote
 * it: a writer whose token is lower belongs to an earlier term and must not write.
 */
export const SLICE_FENCING_TOKEN_ANNOTATION = 'nestjs-kube-leader/fencing-token';

/** The token a slice carries; undefined when it has none, or none that compares (not ours). */
export function sliceFencingToken(slice: V1EndpointSlice | undefined): FencingToken | undefined {
  const value = slice?.metadata?.annotations?.[SLICE_FENCING_TOKEN_ANNOTATION];
  if (value === undefined) return undefined;
  try {
    return FencingToken.parse(value);
  } catch {
    return undefined;
  }
}

/** Whether `slice` was written by a later term than `ours`: then our write is refused. */
export function writtenByLaterTerm(
  slice: V1EndpointSlice | undefined,
  ours: FencingToken,
): FencingToken | undefined {
  const theirs = sliceFencingToken(slice);
  return theirs !== undefined && theirs.isNewerThan(ours) ? theirs : undefined;
}
