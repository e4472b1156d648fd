import { Injectable } from '@nestjs/common';
import type { Election } from './election.js';
import { DEFAULT_ELECTION } from './leader-election.constants.js';
import { DUPLICATE_ELECTION, UNKNOWN_ELECTION } from './leader-election.messages.js';

/** The elections of one Nest application, by name. One instance per app; never a process global. */
@Injectable()
export class LeaderElectionRegistry {
  private readonly elections = new Map<string, Election>();

  /** Adds an election (the module does it for each `forRoot`); throws if the name is taken. */
  register(election: Election): void {
    if (this.elections.has(election.name)) throw new Error(DUPLICATE_ELECTION(election.name));
    this.elections.set(election.name, election);
  }

  /** The election named `name` (default: the unnamed one); throws a clear error when unknown. */
  get(name: string = DEFAULT_ELECTION): Election {
    const election = this.elections.get(name);
    if (!election) throw new Error(UNKNOWN_ELECTION(name, [...this.elections.keys()]));
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
