// Counting API requests per client from the kube-apiserver audit log. The control plane's policy logs
// every request on leases (level Metadata, without the RequestReceived stage, in blocking mode), and
// every bench elector sends its identity as User-Agent (test/fixtures/user-agent.ts, and
// config.UserAgent in the client-go candidate), so each line names the elector that sent it.
//
// A request is counted once: at ResponseComplete, or for a watch at ResponseStarted (a watch that is
// still open has no ResponseComplete yet).
import fs from 'node:fs';

export interface AuditRequest {
  auditID: string;
  userAgent: string;
  username: string;
  verb: string;
  namespace: string;
  name: string;
  code: number;
  /** Wall-clock ms (with microseconds as a fraction) when the server received the request. */
  receivedAt: number;
  /** When it completed (for a watch counted at ResponseStarted: when the watch started). */
  completedAt: number;
}

interface RawAuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  userAgent?: string;
  user?: { username?: string };
  objectRef?: { namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** `2026-11-23T20:57:51.443758Z` -> ms since the epoch, keeping the microseconds. */
export function parseMicroTimestamp(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!match) return Date.parse(text);
  const fraction = Number(`0.${match[2] ?? '0'}`);
  return Date.parse(`${match[1]}Z`) + fraction * 1000;
}

/** Reads the audit log incrementally and keeps the requests of one namespace. */
export class AuditTail {
  private offset = 0;
  private remainder = '';
  private readonly seenWatches = new Set<string>();
  readonly requests: AuditRequest[] = [];

  constructor(
    readonly path: string,
    readonly namespace: string,
  ) {}

  /** Reads what was appended since the last call. */
  poll(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < this.offset) this.offset = 0; // rotated (not expected)
      const length = size - this.offset;
      if (length <= 0) return;
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, this.offset);
      this.offset = size;
      const text = this.remainder + buffer.toString('utf8');
      const lines = text.split('\n');
      this.remainder = lines.pop() ?? '';
      for (const line of lines) this.add(line);
    } finally {
      fs.closeSync(fd);
    }
  }

  private add(line: string): void {
    if (!line.includes(`"namespace":"${this.namespace}"`)) return;
    let event: RawAuditEvent;
    try {
      event = JSON.parse(line) as RawAuditEvent;
    } catch {
      return;
    }
    if (event.objectRef?.namespace !== this.namespace) return;
    if (event.verb === 'watch') {
      if (event.stage !== 'ResponseStarted' && event.stage !== 'ResponseComplete') return;
      if (this.seenWatches.has(event.auditID)) return;
      this.seenWatches.add(event.auditID);
    } else if (event.stage !== 'ResponseComplete') {
      return;
    }
    this.requests.push({
      auditID: event.auditID,
      userAgent: event.userAgent ?? '',
      username: event.user?.username ?? '',
      verb: event.verb,
      namespace: event.objectRef?.namespace ?? '',
      name: event.objectRef?.name ?? '',
      code: event.responseStatus?.code ?? 0,
      receivedAt: parseMicroTimestamp(event.requestReceivedTimestamp),
      completedAt: parseMicroTimestamp(event.stageTimestamp),
    });
  }

  /** Requests matching `filter` received in [from, to). Polls first. */
  select(filter: {
    userAgent?: string | ((ua: string) => boolean);
    lease?: string | ((name: string) => boolean);
    from?: number;
    to?: number;
  }): AuditRequest[] {
    this.poll();
    const match = (value: string, f: string | ((v: string) => boolean) | undefined) =>
      f === undefined || (typeof f === 'string' ? value === f : f(value));
    return this.requests.filter(
      (r) =>
        match(r.userAgent, filter.userAgent) &&
        match(r.name, filter.lease) &&
        (filter.from === undefined || r.receivedAt >= filter.from) &&
        (filter.to === undefined || r.receivedAt < filter.to),
    );
  }
}

/**
 * A handover's requests are counted from the signal to this long (ms) after the successor reports
 * leading: the release, the winning update, and any conflicting tries and reads of the others, but
 * not the new leader's first renew (a retry period later, at least 500 ms in every profile).
 */
export const HANDOVER_TAIL_MS = 250;

/** The requests of one handover on `lease` (see {@link HANDOVER_TAIL_MS}). */
export interface HandoverRequests {
  total: number;
  byVerb: Record<string, number>;
  conflicts: number;
}

/** Counts a handover's requests; waits until the tail has passed, so the audit log has them. */
export async function handoverRequests(
  audit: AuditTail,
  filter: { userAgent: (ua: string) => boolean; lease: string },
  signalAt: number,
  leaderAt: number,
): Promise<HandoverRequests> {
  const to = leaderAt + HANDOVER_TAIL_MS;
  const wait = to + 200 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const requests = audit.select({ ...filter, from: signalAt, to });
  return {
    total: requests.length,
    byVerb: byVerb(requests),
    conflicts: requests.filter((r) => r.code === 409).length,
  };
}

/** Requests grouped by verb: `{ get: 3, update: 30 }`. */
export function byVerb(requests: readonly AuditRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) counts[r.verb] = (counts[r.verb] ?? 0) + 1;
  return counts;
}
