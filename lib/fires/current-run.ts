import { AsyncLocalStorage } from 'node:async_hooks';
import type { FireRun } from '../core/fires/once-job.js';

/** The fire a `once` run serves, for `LeaderService.currentRun()` anywhere inside that run. */
export const currentRunStorage = new AsyncLocalStorage<FireRun>();
