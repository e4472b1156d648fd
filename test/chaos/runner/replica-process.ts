// One replica process as the harness sees it: its events (read from its stdout), its proxy, its
// faked clock if any, and the signals and commands it can be sent.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ReplicaEvent } from '../checker.js';
import type { FakeClock, WallClockControl } from '../faketime.js';
import type { TcpProxy } from '../tcp-proxy.js';
import { now, sleep } from '../timings.js';

/** How to start a replica (see `startReplica`). */
export interface ReplicaOptions {
  /** Election identity; default the new replica's own name. */
  identity?: string;
  /** Start with its connection cut (it cannot see the Lease until the proxy is restored). */
  cut?: boolean;
  /** Run it under libfaketime. */
  clock?: 'wall' | { rate: number };
  /** With `spread`: its `shares` option, when not the run's (a rollout that changes it). */
  shares?: number;
}

/** A running (or exited) replica of test/chaos/replica.ts. */
export class Replica {
  readonly events: ReplicaEvent[] = [];
  readonly exited: Promise<number | null>;
  paused = false;
  dead = false;

  constructor(
    /** The process's name in the event log. */
    readonly id: string,
    /** Its election identity: `id`, except for a `same-identity` twin. */
    readonly identity: string,
    readonly child: ChildProcessWithoutNullStreams,
    readonly proxy: TcpProxy,
    sink: (event: ReplicaEvent) => void,
    /** Set when its wall clock can be changed at run time. */
    readonly wallClock?: WallClockControl,
    /**
     * How its clock is faked, if it is. A rate-skewed replica's own times are not real: its events
     * are timed when they arrive here (its own time kept as `replicaT`). The cron job of any faked
     * replica names the second by its wrong wall clock: the real second is recorded as `slot`
     * (its own kept as `replicaSlot`), so the cron report counts real seconds.
     */
    faked?: FakeClock['kind'],
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as ReplicaEvent;
        if (faked === 'rate') {
          event.replicaT = event.t;
          event.t = now();
        }
        if (faked && event.type === 'tick') {
          event.replicaSlot = event.slot;
          event.slot = Math.round(event.t / 1000);
        }
        this.events.push(event);
        sink(event);
      } catch {
        // not ours
      }
    });
    child.stderr.resume();
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.dead = true;
        // A harness record: a killed replica reports nothing, yet leads no more.
        sink({ t: now(), id: this.id, type: 'process-exit' });
        resolve(code);
      }),
    );
  }

  /** The last change event this replica reported. */
  get view(): ReplicaEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--)
      if (this.events[i].type === 'change') return this.events[i];
    return undefined;
  }

  signal(signal: NodeJS.Signals) {
    if (!this.dead) this.child.kill(signal);
  }

  /** Sends a command line to the replica's stdin (see replica.ts). */
  send(command: Record<string, unknown>) {
    if (!this.dead) this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Waits until one of its events matches. */
  async waitFor(match: (event: ReplicaEvent) => boolean, what: string, timeoutMs = 60_000) {
    const deadline = now() + timeoutMs;
    while (!this.events.some(match)) {
      if (this.dead) throw new Error(`${this.id} exited while waiting for ${what}`);
      if (now() > deadline) throw new Error(`${this.id}: no ${what} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}
