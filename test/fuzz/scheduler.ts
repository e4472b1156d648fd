/**
 * The simulation's only source of time and order. Every timer of every simulated process, every
 * answer and watch event a process receives, and every fault is a task here, run in (time, order of
 * scheduling) order; after each task the microtask queue is drained (outside the simulated world:
 * nothing inside it uses real timers), so the promise chains a task starts settle before the next
 * task. A seed therefore replays exactly.
 *
 * A paused process (GC, SIGSTOP, CPU starvation) runs nothing: its tasks that fall due are held, and
 * when it resumes it first gets the answers and events that arrived meanwhile, then its timers, as
 * `FakeClock.jump` models a process that wakes up before its timers run. A killed process runs
 * nothing again.
 */

/** What a task is to its process: a timer of its own, or something arriving from the network. */
export type TaskKind = 'timer' | 'delivery' | 'world';

export interface Task {
  /** Due time; a held task is moved to its process's resumption. */
  at: number;
  seq: number;
  readonly owner: SimProcess | undefined;
  readonly kind: TaskKind;
  readonly run: () => void;
  cancelled: boolean;
}

/** One simulated OS process: it can be paused, resumed and killed. */
export class SimProcess {
  /** How many pauses hold the process (they overlap): it runs again when the last one ends. */
  pauses = 0;
  alive = true;
  readonly heldDeliveries: Task[] = [];
  readonly heldTimers: Task[] = [];

  constructor(readonly name: string) {}
}

export class Scheduler {
  /** Global simulated time, ms (processes see it through their own clocks). */
  now = 0;
  private seq = 0;
  /** Sequence numbers of resumed tasks: below every other task's. */
  private resumed = -Number.MAX_SAFE_INTEGER;
  private readonly heap: Task[] = [];
  /** Tasks run so far (for the report). */
  steps = 0;

  /** Schedules `run` at global time `at` (never earlier than now). */
  schedule(at: number, owner: SimProcess | undefined, kind: TaskKind, run: () => void): Task {
    const task: Task = {
      at: Math.max(at, this.now),
      seq: this.seq++,
      owner,
      kind,
      run,
      cancelled: false,
    };
    this.push(task);
    return task;
  }

  cancel(task: Task): void {
    task.cancelled = true;
  }

  pause(process: SimProcess): void {
    process.pauses += 1;
  }

  /**
   * Ends one pause of `process`; after the last, it runs again: what arrived while it was paused
   * first, in order, then its due timers. Returns whether it runs again.
   */
  resume(process: SimProcess): boolean {
    if (process.pauses === 0) return false;
    process.pauses -= 1;
    if (process.pauses > 0) return false;
    const deliveries = process.heldDeliveries.splice(0);
    const timers = process.heldTimers.splice(0).sort((a, b) => a.at - b.at || a.seq - b.seq);
    // The same task objects, so that a timer cleared after the resumption stays cleared; ordered
    // before anything else due now (negative sequence numbers).
    for (const task of [...deliveries, ...timers]) {
      task.at = this.now;
      task.seq = this.resumed++;
      this.push(task);
    }
    return true;
  }

  /** The process is gone: none of its tasks runs any more. */
  kill(process: SimProcess): void {
    process.alive = false;
    process.heldDeliveries.length = 0;
    process.heldTimers.length = 0;
  }

  /**
   * Runs tasks until global time `until` or until `stop()` answers true. `beforeTask` runs when time
   * has moved to a task's time (the processes' views may have changed with time alone), `afterTask`
   * after the task and the promise chains it started.
   */
  async run(
    until: number,
    hooks: { beforeTask(): void; afterTask(): void; stop(): boolean },
  ): Promise<void> {
    while (this.heap.length > 0 && this.heap[0].at <= until) {
      const task = this.pop();
      if (task.cancelled) continue;
      const owner = task.owner;
      if (owner && !owner.alive) continue;
      if (owner && owner.pauses > 0) {
        (task.kind === 'timer' ? owner.heldTimers : owner.heldDeliveries).push(task);
        continue;
      }
      if (task.at > this.now) {
        this.now = task.at;
        hooks.beforeTask();
        if (hooks.stop()) return;
      }
      this.steps += 1;
      task.run();
      await drainMicrotasks();
      hooks.afterTask();
      if (hooks.stop()) return;
    }
    this.now = Math.max(this.now, until);
  }

  private push(task: Task): void {
    const heap = this.heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Task {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Task, b: Task): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Lets every promise chain started by a task settle. Nothing inside the simulated world uses
 * macrotasks, so one turn of the event loop empties the microtask queue.
 */
function drainMicrotasks(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
