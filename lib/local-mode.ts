import { hostname } from 'node:os';
import { InMemoryLeaseLock, InMemoryLeaseStore, InvalidOptionError } from './core/index.js';
import type { LeaderElectionModuleOptions } from './interfaces/leader-election-options.interface.js';
import { LOCAL_MODE_IN_CLUSTER } from './leader-election.messages.js';

/** `local: true` is for development: refused in a pod (where Kubernetes sets this variable). */
export function assertLocalAllowed(
  options: Pick<LeaderElectionModuleOptions, 'lock'>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  if (env.KUBERNETES_SERVICE_HOST) throw new InvalidOptionError('local', LOCAL_MODE_IN_CLUSTER);
  if (options.lock) {
    throw new InvalidOptionError('local', 'cannot be combined with a custom "lock"');
  }
}

/** The local mode's Lease: in memory, this process's alone, so it leads at once. */
export function localLock(leaseName: string, identity: string | undefined): InMemoryLeaseLock {
  return new InMemoryLeaseLock(
    new InMemoryLeaseStore(),
    identity ??
      `${
        hostname()
          .replace(/[^\x20-\x7e]/g, '_')
          .slice(0, 200) || 'local'
      }_local`,
    leaseName,
  );
}
