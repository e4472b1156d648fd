// Reading the kube-apiserver audit log. The policy written by control-plane.ts records only
// coordination.k8s.io leases, at level Metadata, without the RequestReceived stage, and the log runs in
// blocking mode: every finished lease request is one `ResponseComplete` line by the time its response
// has reached the client, so tests and benchmarks can count requests per user exactly.
import fs from 'node:fs';

/** The fields of an audit.k8s.io/v1 Event that tests use. */
export interface AuditEvent {
  auditID: string;
  stage: 'ResponseStarted' | 'ResponseComplete' | 'Panic' | 'RequestReceived';
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[]; extra?: Record<string, string[]> };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export interface AuditFilter {
  /** User name, e.g. `lease-user`. */
  username?: string;
  namespace?: string;
  name?: string;
  verb?: string;
  /** Default `ResponseComplete`: one event per finished request (a watch ends with one too). */
  stage?: AuditEvent['stage'] | 'any';
  /** Only events whose request arrived at or after this time. */
  since?: Date;
}

/** Parses the audit log at `path` and returns the lease events matching `filter`. */
export function readAuditEvents(path: string, filter: AuditFilter = {}): AuditEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const stage = filter.stage ?? 'ResponseComplete';
  const since = filter.since?.getTime();
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // a line being written right now
    }
    if (stage !== 'any' && event.stage !== stage) continue;
    if (filter.username !== undefined && event.user?.username !== filter.username) continue;
    if (filter.verb !== undefined && event.verb !== filter.verb) continue;
    if (filter.namespace !== undefined && event.objectRef?.namespace !== filter.namespace) continue;
    if (filter.name !== undefined && event.objectRef?.name !== filter.name) continue;
    if (since !== undefined && Date.parse(event.requestReceivedTimestamp) < since) continue;
    events.push(event);
  }
  return events;
}

/**
 * The events of several audit logs (the HA shape's API servers each write their own), merged in
 * the order the requests arrived.
 */
export function readMergedAuditEvents(paths: string[], filter: AuditFilter = {}): AuditEvent[] {
  return paths
    .flatMap((path) => readAuditEvents(path, filter))
    .sort(
      (a, b) => Date.parse(a.requestReceivedTimestamp) - Date.parse(b.requestReceivedTimestamp),
    );
}
