import {
  DuplicateElectionError,
  LeaderElectionError,
  LeaseNameTakenError,
  UnknownElectionError,
} from '../../../lib/index.js';
import type { Election } from '../../../lib/election.js';
import { LeaderElectionRegistry } from '../../../lib/leader-election.registry.js';

/** What the registry reads of an election: its name, namespace and Lease names. */
function election(name: string, leases: string[], namespace: string | undefined = 'ns'): Election {
  return { name, namespace, leaseNames: () => leases } as unknown as Election;
}

/** The error `act` throws (fails the test if it throws none). */
function thrownBy(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('LeaderElectionRegistry errors', () => {
  it('an unknown election name is an UnknownElectionError, a LeaderElectionError', () => {
    const registry = new LeaderElectionRegistry();
    registry.register(election('default', ['jobs']));
    const error = thrownBy(() => registry.get('nope'));
    expect(error).toBeInstanceOf(UnknownElectionError);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect(error.name).toBe('UnknownElectionError');
    expect(error.message).toMatch(
      /^No leader election named "nope" is registered \(registered: "default"\)/,
    );
  });

  it('a name registered twice is a DuplicateElectionError, a LeaderElectionError', () => {
    const registry = new LeaderElectionRegistry();
    registry.register(election('billing', ['billing']));
    const error = thrownBy(() => registry.register(election('billing', ['other'])));
    expect(error).toBeInstanceOf(DuplicateElectionError);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect(error.name).toBe('DuplicateElectionError');
    expect(error.message).toMatch(/^A leader election named "billing" is already registered/);
  });

  it('a Lease of another election in the namespace is a LeaseNameTakenError, a LeaderElectionError', () => {
    const registry = new LeaderElectionRegistry();
    registry.register(election('reports', ['reports-share-0', 'reports-share-1']));
    const error = thrownBy(() => registry.register(election('other', ['reports-share-1'])));
    expect(error).toBeInstanceOf(LeaseNameTakenError);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect(error.name).toBe('LeaseNameTakenError');
    expect(error.message).toMatch(
      /^The leader elections "reports" and "other" would both use the Lease "reports-share-1"/,
    );
  });
});
