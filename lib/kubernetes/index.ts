/** The Kubernetes Lease lock: the only part of the library that imports @kubernetes/client-node. */
export { KubernetesLeaseLock, type KubernetesLeaseLockOptions } from './kubernetes-lease-lock.js';
export { LockAnnotationTooLargeError } from '../core/errors.js';
export { defaultIdentity, resolveNamespace } from './defaults.js';
export {
  LeaseEventRecorder,
  LEADER_ELECTION_EVENT_REASON,
  type LeaseEventRecorderOptions,
} from './lease-event-recorder.js';
export {
  EndpointSliceFencedError,
  EndpointSliceWriteError,
  LeaderEndpointSlice,
  type LeaderEndpoint,
  type LeaderEndpointSliceOptions,
  type LeaderEndpointSlicePort,
} from './leader-endpoint-slice.js';
