// CPU time and memory of processes we started, read from /proc (Linux).
import fs from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat; 100 on Linux for every common architecture. */
const CLK_TCK = 100;

/** CPU time (user + system) of `pid` in milliseconds, or null when it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size and its peak (VmHWM) of `pid` in MB, or null when it is gone. */
export function memoryMb(pid: number): { rss: number; peak: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export interface ProcessUsage {
  pid: number;
  /** Average CPU over the window, in percent of one core. */
  cpuPercent: number;
  rssMb: number;
  peakRssMb: number;
}

/** Measures the CPU used by `pids` between construction and {@link stop}. */
export class CpuWindow {
  private readonly startedAt = performance.now();
  private readonly start = new Map<number, number>();

  constructor(readonly pids: readonly number[]) {
    for (const pid of pids) this.start.set(pid, cpuMs(pid) ?? 0);
  }

  stop(): Map<number, ProcessUsage> {
    const elapsed = performance.now() - this.startedAt;
    const usage = new Map<number, ProcessUsage>();
    for (const pid of this.pids) {
      const end = cpuMs(pid);
      const memory = memoryMb(pid);
      if (end === null || memory === null) continue;
      usage.set(pid, {
        pid,
        cpuPercent: round2(((end - (this.start.get(pid) ?? 0)) / elapsed) * 100),
        rssMb: round2(memory.rss),
        peakRssMb: round2(memory.peak),
      });
    }
    return usage;
  }
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
