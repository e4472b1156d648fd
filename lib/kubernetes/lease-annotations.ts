import { isIP } from 'node:net';
import type { LeaderAddress, LeaseRecord, LeaseSpec, MemberEntry } from '../core/index.js';
import { LockAnnotationTooLargeError } from '../core/errors.js';
import { decodeLedger, encodeLedger } from '../core/fires/fire-ledger.js';
import { isRevision, toCandidates } from '../core/rollout-candidates.js';
import { annotationTooLarge } from './kubernetes.messages.js';

/**
 * The annotation that names the successor a releasing leader prefers (`stepDown({ successor })`):
 * `{"holder":"<successor>","holderIdentity":"","transitions":<leaseTransitions of the release>}`.
 * Never `holderIdentity` itself: another process's identity there would defeat the
 * duplicate-identity check. Bound to the released record (see {@link AnnotationKind.holderBound}).
 */
export const PREFERRED_HOLDER_ANNOTATION = 'nestjs-kube-leader/preferred-holder';

/**
 * On the membership Lease of an election spread over shares: `{"<identity>":<until>, ...,
 * "":{"<identity>":{"ttl":<ms>,"shares":<n>}, ...}}` (see `LeaseRecord.members` and `MemberEntry`).
 * Each identity keeps a number (its writer's wall clock plus ttl: what versions before `ttl` read as
 * a deadline, so that they still see every member during a rolling upgrade); the rest of an entry
 * is under the key `""`, which no identity can be. A version before `ttl` drops that part when it
 * writes: its writers' next renewal puts it back, and until then readers take the entry as an
 * older version's. Not bound to a holder: that Lease has none.
 */
export const MEMBERS_ANNOTATION = 'nestjs-kube-leader/members';

/**
 * The ledger of `once` jobs' fires: `{"term":<n>,"jobs":{"<job>":{"at":<ms>,"term":<n>,
 * "state":"claimed"|"done"|"interrupted","zone":"<zone>","period":<ms>}}}` (see `FireLedger`). Not
 * bound to a holder: each of our holders carries it on to the next term, and a client-go holder keeps
 * it as it found it (its `term` then tells the next holder of ours that it was not kept meanwhile).
 */
export const FIRES_ANNOTATION = 'nestjs-kube-leader/fires';

/**
 * The holder's revision (`revision` option, e.g. the Pod's `pod-template-hash`):
 * `{"revision":"<revision>","holderIdentity":"<holder>","transitions":<n>}`, on a release the
 * releasing holder's (holder `''`). Bound to the record it was written with.
 */
export const REVISION_ANNOTATION = 'nestjs-kube-leader/revision';

/**
 * The followers of another revision that announced themselves in the holder's term, oldest first:
 * `{"candidates":[{"identity":"<id>","revision":"<revision>"}, ...],"holderIdentity":"<holder>",
 * "transitions":<n>}` (at most `MAX_CANDIDATES`). Bound to the record it was written with.
 */
export const CANDIDATES_ANNOTATION = 'nestjs-kube-leader/candidates';

/**
 * Where the holder serves forwarded requests: `{"ip":"<address>","port":<n>,"holderIdentity":
 * "<holder>","transitions":<leaseTransitions>}` (see `LeaseRecord.leaderAddress`). Bound to the
 * record it was written with: a client-go holder keeps it as it found it, and followers must never
 * send requests to the address of an earlier term.
 */
export const LEADER_ADDRESS_ANNOTATION = 'nestjs-kube-leader/leader-address';

/**
 * Bytes the API server allows for all annotations of one object together (keys and values; other
 * writers' annotations and kubectl's last-applied-configuration copy included).
 */
export const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

/**
 * Bytes our annotations leave free below {@link ANNOTATIONS_SIZE_LIMIT}, so that other writers can
 * still add or grow theirs (an `kubectl annotate`, a controller) after ours have grown.
 */
export const ANNOTATIONS_SAFETY_MARGIN = 16 * 1024;

/** The fields of a Lease record the library keeps in annotations, one kind each. */
type AnnotatedField =
  'preferredHolder' | 'members' | 'fires' | 'revision' | 'candidates' | 'leaderAddress';

/** A field's value as written and as read (never null or absent). */
type ValueOf<F extends AnnotatedField> = NonNullable<LeaseSpec[F]> & NonNullable<LeaseRecord[F]>;

/** The record an annotation of a holder-bound kind is bound to. */
type Binding = Pick<LeaseRecord, 'holderIdentity' | 'leaseTransitions'>;

/** How one field is kept in an annotation: its key, whether it is bound, its JSON object. */
interface AnnotationKind<F extends AnnotatedField> {
  readonly key: string;
  /**
   * The value describes the holder of the record it was written with: it carries that record's
   * `holderIdentity` and `leaseTransitions`, and is ignored on a record with others. A client-go
   * holder keeps annotations as it found them, so a copy carried into a later term must be told
   * apart from a current one.
   */
  readonly holderBound: boolean;
  /**
   * For a holder-bound kind written before values carried `holderIdentity`: the holder such a
   * value was always written with (then `transitions` alone bound it).
   */
  readonly legacyHolder?: string;
  /** The value's JSON object (the binding fields are added to it). */
  readonly encode: (value: ValueOf<F>) => Record<string, unknown>;
  /** The value of a JSON object read back, or undefined when it holds none of the right type. */
  readonly decode: (json: Readonly<Record<string, unknown>>) => ValueOf<F> | undefined;
}

/** Every annotation kind. A new kind is one entry here (and its field in LeaseSpec/LeaseRecord). */
const KINDS: { readonly [F in AnnotatedField]: AnnotationKind<F> } = {
  preferredHolder: {
    key: PREFERRED_HOLDER_ANNOTATION,
    holderBound: true,
    // Released Leases only (holder ''), since the annotation exists.
    legacyHolder: '',
    encode: (holder) => ({ holder }),
    decode: ({ holder }) => (typeof holder === 'string' && holder ? holder : undefined),
  },
  members: {
    key: MEMBERS_ANNOTATION,
    holderBound: false,
    encode: (members) => {
      const json: Record<string, unknown> = {};
      const rest: Record<string, unknown> = {};
      for (const [identity, { until, ...more }] of Object.entries(members)) {
        json[identity] = until;
        if (Object.keys(more).length > 0) rest[identity] = more;
      }
      return Object.keys(rest).length > 0 ? { ...json, '': rest } : json;
    },
    decode: (json) => {
      const members: Record<string, MemberEntry> = {};
      const rest = json[''] && typeof json[''] === 'object' ? (json[''] as object) : {};
      for (const [identity, until] of Object.entries(json)) {
        if (identity === '' || typeof until !== 'number' || !Number.isFinite(until)) continue;
        const more = (rest as Record<string, unknown>)[identity];
        members[identity] = { until, ...(more && typeof more === 'object' ? numbers(more) : {}) };
      }
      return members;
    },
  },
  fires: {
    key: FIRES_ANNOTATION,
    holderBound: false,
    encode: encodeLedger,
    decode: decodeLedger,
  },
  revision: {
    key: REVISION_ANNOTATION,
    holderBound: true,
    encode: (revision) => ({ revision }),
    decode: ({ revision }) => (isRevision(revision) ? revision : undefined),
  },
  candidates: {
    key: CANDIDATES_ANNOTATION,
    holderBound: true,
    encode: (candidates) => ({ candidates }),
    decode: ({ candidates }) => toCandidates(candidates),
  },
  leaderAddress: {
    key: LEADER_ADDRESS_ANNOTATION,
    holderBound: true,
    encode: ({ ip, port }) => ({ ip, port }),
    decode: decodeLeaderAddress,
  },
};

const FIELDS = Object.keys(KINDS) as AnnotatedField[];

/** A member entry's `ttl` and `shares` where they are numbers (readers check their ranges). */
function numbers(more: object): Pick<MemberEntry, 'ttl' | 'shares'> {
  const { ttl, shares } = more as Record<string, unknown>;
  return {
    ...(typeof ttl === 'number' && Number.isFinite(ttl) ? { ttl } : {}),
    ...(typeof shares === 'number' && Number.isFinite(shares) ? { shares } : {}),
  };
}

/** An IP literal (no zone, no host name) and a TCP port, or undefined. */
function decodeLeaderAddress({
  ip,
  port,
}: Readonly<Record<string, unknown>>): LeaderAddress | undefined {
  if (typeof ip !== 'string' || ip.includes('%') || isIP(ip) === 0) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    return undefined;
  return { ip, port };
}

/** Our annotation keys. */
export const OUR_ANNOTATIONS: readonly string[] = FIELDS.map((field) => KINDS[field].key);

/**
 * The annotations a write sends: those of its basis object except ours (kept as they are), and
 * ours as `spec` has them (a stale one of ours on the basis is replaced or dropped). Throws a
 * {@link LockAnnotationTooLargeError} when ours would exceed their budget beside the others on the
 * basis; `request` (e.g. `update lease ns/name`) names the write in its message.
 */
export function encodeAnnotations(
  basis: Readonly<Record<string, string>> | undefined,
  spec: LeaseSpec,
  request: string,
): Record<string, string> | undefined {
  const foreign = { ...(basis ?? {}) };
  for (const key of OUR_ANNOTATIONS) delete foreign[key];
  const ours: Record<string, string> = {};
  for (const field of FIELDS) {
    const text = encodeField(field, spec);
    if (text !== undefined) ours[KINDS[field].key] = text;
  }
  assertWithinBudget(ours, foreign, request);
  const all = { ...foreign, ...ours };
  return Object.keys(all).length > 0 ? all : undefined;
}

/**
 * Our fields as `annotations` hold them for the record `binding` (the Lease's own spec): values
 * that are malformed, of the wrong type, or bound to another holder or term are left out.
 */
export function decodeAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
  binding: Binding,
): Pick<LeaseRecord, AnnotatedField> {
  const fields: { -readonly [F in AnnotatedField]?: ValueOf<F> } = {};
  for (const field of FIELDS) assign(fields, field, decodeField(field, annotations, binding));
  return fields;
}

/**
 * Bytes our annotations may take together beside `foreign` (the other annotations of the object
 * written): {@link ANNOTATIONS_SIZE_LIMIT} less theirs and {@link ANNOTATIONS_SAFETY_MARGIN}.
 */
export function annotationBudget(foreign: Readonly<Record<string, string>>): number {
  return ANNOTATIONS_SIZE_LIMIT - sizeOf(foreign) - ANNOTATIONS_SAFETY_MARGIN;
}

/** Bytes annotations take as the API server counts them: UTF-8 keys and values. */
export function sizeOf(annotations: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) size += entrySize(key, value);
  return size;
}

function entrySize(key: string, value: string): number {
  return Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
}

function assertWithinBudget(
  ours: Readonly<Record<string, string>>,
  foreign: Readonly<Record<string, string>>,
  request: string,
): void {
  const total = sizeOf(ours);
  // A write without annotations of ours adds nothing: never refused for the others' size.
  if (total === 0) return;
  const budget = annotationBudget(foreign);
  if (total <= budget) return;
  const [annotation, size] = Object.entries(ours)
    .map(([key, value]): [string, number] => [key, entrySize(key, value)])
    .reduce((largest, entry) => (entry[1] > largest[1] ? entry : largest));
  throw new LockAnnotationTooLargeError(
    annotationTooLarge({
      request,
      annotation,
      size,
      total,
      budget,
      foreign: sizeOf(foreign),
      limit: ANNOTATIONS_SIZE_LIMIT,
      margin: ANNOTATIONS_SAFETY_MARGIN,
    }),
    annotation,
    size,
    budget,
  );
}

function encodeField<F extends AnnotatedField>(field: F, spec: LeaseSpec): string | undefined {
  const kind: AnnotationKind<F> = KINDS[field];
  const value = spec[field] as ValueOf<F> | '' | null | undefined;
  if (value === undefined || value === null || value === '') return undefined;
  const json = kind.encode(value);
  if (!kind.holderBound) return JSON.stringify(json);
  return JSON.stringify({
    ...json,
    holderIdentity: spec.holderIdentity,
    transitions: spec.leaseTransitions,
  });
}

function decodeField<F extends AnnotatedField>(
  field: F,
  annotations: Readonly<Record<string, string>> | undefined,
  binding: Binding,
): ValueOf<F> | undefined {
  const kind: AnnotationKind<F> = KINDS[field];
  const json = parseObject(annotations?.[kind.key]);
  if (!json) return undefined;
  if (kind.holderBound && !boundTo(json, kind.legacyHolder, binding)) return undefined;
  return kind.decode(json);
}

/** Whether a holder-bound value was written with the record `binding`. */
function boundTo(
  json: Readonly<Record<string, unknown>>,
  legacyHolder: string | undefined,
  binding: Binding,
): boolean {
  const holder = json.holderIdentity === undefined ? legacyHolder : json.holderIdentity;
  return (
    typeof holder === 'string' &&
    holder === (binding.holderIdentity ?? '') &&
    typeof json.transitions === 'number' &&
    json.transitions === binding.leaseTransitions
  );
}

/** The JSON object `text` holds, or undefined (absent, malformed, not an object). */
function parseObject(text: string | undefined): Readonly<Record<string, unknown>> | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined; // written by someone else: ignored
  }
}

function assign<F extends AnnotatedField>(
  fields: { -readonly [K in AnnotatedField]?: ValueOf<K> },
  field: F,
  value: ValueOf<F> | undefined,
): void {
  if (value !== undefined) fields[field] = value;
}
