import type { ElectorLogger } from '../../lib/core/elector-options.js';
import type { LeaderChangeEvent } from '../../lib/core/elector-status.js';
import type { Trace } from './trace.js';

/** A log line of one replica, at global simulated time `at`. */
export interface LogLine {
  readonly at: number;
  readonly level: 'log' | 'warn' | 'error' | 'debug';
  readonly message: string;
}

/** A replica's logger: every line goes into the trace and is kept for the checker (stop reasons). */
export class ReplicaLog implements ElectorLogger {
  readonly lines: LogLine[] = [];

  constructor(
    private readonly trace: Trace,
    private readonly who: string,
    private readonly now: () => number,
  ) {}

  log(message: string): void {
    this.add('log', message);
  }

  warn(message: string): void {
    this.add('warn', message);
  }

  error(message: string): void {
    this.add('error', message);
  }

  debug(message: string): void {
    this.add('debug', message);
  }

  /** Lines logged since global time `from`. */
  since(from: number): LogLine[] {
    return this.lines.filter((line) => line.at >= from);
  }

  private add(level: LogLine['level'], message: string): void {
    this.lines.push({ at: this.now(), level, message });
    this.trace.add(this.who, `${level}: ${message}`);
  }
}

/** A change event in a trace line: why, and whether the replica leads (token) or whom it follows. */
export function describeChange(event: LeaderChangeEvent): string {
  const state = event.isLeader
    ? `leads, token ${event.fencingToken}`
    : `follows ${event.leader ?? 'nobody'}`;
  return `change (${event.reason}): ${state}`;
}
