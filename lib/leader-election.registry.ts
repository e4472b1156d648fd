import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Election } from './election.js';
import { OnceJobs } from './fires/once-jobs.js';
import { DEFAULT_ELECTION } from './leader-election.constants.js';
import {
  DuplicateElectionError,
  LeaseNameTakenError,
  UnknownElectionError,
} from './leader-election.errors.js';
import {
  DUPLICATE_ELECTION,
  LEASE_NAME_TAKEN,
  UNKNOWN_ELECTION,
} from './leader-election.messages.js';

/** The elections of one Nest application, by name. One instance per app; never a process global. */
@Injectable()
export class LeaderElectionRegistry {
  private readonly elections = new Map<string, Election>();
  /**
   * The random suffix of this app's default identity (`POD_NAME` or `HOSTNAME`, `_`, the suffix):
   * one for all its elections, so that every Lease and log line names the instance alike.
   */
  readonly identitySuffix = randomBytes(4).toString('hex');
  /** The app's `@LeaderOnly({ once: true })` jobs. */
  readonly onceJobs = new OnceJobs();

  /**
   * Adds an election (the module does it for each `forRoot`); throws a {@link DuplicateElectionError}
   * if its name is taken, a {@link LeaseNameTakenError} if one of its Leases is another election's in
   * the same namespace.
   */
  register(election: Election): void {
    if (this.elections.has(election.name)) {
      throw new DuplicateElectionError(DUPLICATE_ELECTION(election.name));
    }
    // Two elections on one Kubernetes Lease would each think they lead it alone (custom and
    // in-memory locks have no namespace: each is its own Lease).
    const names = new Set(election.leaseNames());
    for (const other of this.elections.values()) {
      if (election.namespace === undefined || other.namespace !== election.namespace) continue;
      const taken = other.leaseNames().find((lease) => names.has(lease));
      if (taken) throw new LeaseNameTakenError(LEASE_NAME_TAKEN(taken, other.name, election.name));
    }
    this.elections.set(election.name, election);
  }

  /**
   * The election named `name` (default: the unnamed one); throws an {@link UnknownElectionError}
   * naming the registered ones when unknown.
   */
  get(name: string = DEFAULT_ELECTION): Election {
    const election = this.elections.get(name);
    if (!election) {
      throw new UnknownElectionError(UNKNOWN_ELECTION(name, [...this.elections.keys()]));
    }
    return election;
  }

  /** Whether an election named `name` (default: the unnamed one) is registered. */
  has(name: string = DEFAULT_ELECTION): boolean {
    return this.elections.has(name);
  }

  /** Names of the registered elections, in registration order. */
  names(): string[] {
    return [...this.elections.keys()];
  }
}
