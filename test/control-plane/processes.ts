// Process plumbing for the local control plane: detached children with log files, PID ownership checks
// (a recycled PID must never be killed), free loopback ports, and log tails for error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A child started by this process; `exit` is set once it is observed to end. */
export interface StartedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Starts `binary` in its own process group with stdout and stderr appended to `logPath`, so it keeps
 * running after the starting process exits. The parent keeps no handle open on it.
 */
export async function spawnDetached(
  binary: string,
  args: string[],
  logPath: string,
  options: { cwd?: string } = {},
): Promise<StartedProcess> {
  const log = fs.openSync(logPath, 'a');
  try {
    fs.writeSync(log, `=== ${new Date().toISOString()} starting ${binary} ${args.join(' ')}\n`);
    const child = spawn(binary, args, {
      detached: true,
      stdio: ['ignore', log, log],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid as number));
    });
    const started: StartedProcess = { pid, child, exit: undefined };
    child.on('exit', (code, signal) => {
      started.exit = { code, signal };
    });
    child.unref();
    return started;
  } finally {
    fs.closeSync(log);
  }
}

/**
 * True if `pid` is alive and its command line contains `binary`. A zombie has an empty command line, and
 * a PID recycled by another program has a different one, so both count as "not ours".
 */
export function isProcessOf(pid: number, binary: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(binary);
  } catch {
    return false;
  }
}

export type StopOutcome = 'SIGTERM' | 'SIGKILL' | 'not-running';

/**
 * Stops `pid` only if it still runs `binary`: `signal` (default SIGTERM), up to `graceMs` for it to exit,
 * then SIGKILL. Resolves once the process is gone.
 */
export async function stopProcess(
  pid: number,
  binary: string,
  options: { signal?: 'SIGTERM' | 'SIGKILL'; graceMs?: number } = {},
): Promise<StopOutcome> {
  const signal = options.signal ?? 'SIGTERM';
  if (!isProcessOf(pid, binary)) return 'not-running';
  if (!sendSignal(pid, signal)) return 'not-running';
  if (await waitUntilGone(pid, binary, options.graceMs ?? 10_000)) return signal;
  if (!isProcessOf(pid, binary)) return signal;
  sendSignal(pid, 'SIGKILL');
  if (!(await waitUntilGone(pid, binary, 10_000))) {
    throw new Error(`process ${pid} (${binary}) did not exit even after SIGKILL`);
  }
  return 'SIGKILL';
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function waitUntilGone(pid: number, binary: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessOf(pid, binary)) return true;
    await sleep(50);
  }
  return !isProcessOf(pid, binary);
}

/**
 * A child whose starter has exited belongs to PID 1, which may reap it a moment later; until then it
 * shows as `<defunct>` in ps. Waits briefly for that, so "stopped" also means "gone from ps".
 */
export async function waitForReaping(pid: number, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isZombie(pid)) await sleep(50);
}

/**
 * Waits until `pid` has finished exiting: gone, or a zombie. A process being killed loses its
 * command line (so {@link isProcessOf} says "not ours") before it closes its files, so its
 * listening sockets may still be open for a moment: a successor on the same port must wait for this.
 */
export async function waitUntilExited(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && fs.existsSync(`/proc/${pid}`) && !isZombie(pid)) await sleep(20);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** A loopback port that was free a moment ago (listen on 127.0.0.1:0, then close). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Distinct free loopback ports (the kernel could otherwise hand out the same port twice). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeLoopbackPort());
  return [...ports];
}

/**
 * Distinct loopback ports that were free a moment ago, below the kernel's range of ephemeral ports
 * (/proc/sys/net/ipv4/ip_local_port_range). A server restarted on its port must find it free, and a
 * port of the ephemeral range may meanwhile be the source port of some outgoing connection.
 */
export async function freeListeningPorts(count: number): Promise<number[]> {
  let low = 32768;
  try {
    low = Number(
      fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
  } catch {
    // not Linux: the default range's start
  }
  const floor = Math.min(10_000, low - 1_000);
  const ports = new Set<number>();
  for (let attempts = 0; ports.size < count && attempts < 1_000; attempts++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (!ports.has(port) && (await canListen(port))) ports.add(port);
  }
  if (ports.size < count) return freeLoopbackPorts(count);
  return [...ports];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The last `lines` lines of a log file, or a note that it cannot be read. */
export function tailFile(path: string, lines = 30): string {
  try {
    const text = fs.readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(cannot read ${path}: ${(error as Error).message})`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
