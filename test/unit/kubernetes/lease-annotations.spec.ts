// The codec of the library's Lease annotations: one row per case, encoded from a LeaseSpec and
// decoded against the record the annotations were found on.
import type { LeaseRecord, LeaseSpec } from '../../../lib/core/index.js';
import { LockAnnotationTooLargeError } from '../../../lib/core/errors.js';
import {
  ANNOTATIONS_SAFETY_MARGIN,
  ANNOTATIONS_SIZE_LIMIT,
  CANDIDATES_ANNOTATION,
  MEMBERS_ANNOTATION,
  REVISION_ANNOTATION,
  PREFERRED_HOLDER_ANNOTATION,
  annotationBudget,
  decodeAnnotations,
  encodeAnnotations,
  sizeOf,
} from '../../../lib/kubernetes/lease-annotations.js';

const RELEASE: LeaseSpec = {
  holderIdentity: '',
  leaseDurationSeconds: 1,
  acquireTime: new Date('2026-11-30T12:00:10Z'),
  renewTime: new Date('2026-11-30T12:00:10Z'),
  leaseTransitions: 4,
};

const REQUEST = 'update lease apps/billing-leader';

type Binding = Pick<LeaseRecord, 'holderIdentity' | 'leaseTransitions'>;
const released: Binding = { holderIdentity: '', leaseTransitions: 4 };

describe('lease annotations: round trips', () => {
  it.each<[string, Partial<LeaseSpec>, Record<string, string>, object]>([
    ['nothing of ours', {}, {}, {}],
    [
      'a named successor, bound to the released record',
      { preferredHolder: 'billing-next' },
      {
        [PREFERRED_HOLDER_ANNOTATION]:
          '{"holder":"billing-next","holderIdentity":"","transitions":4}',
      },
      { preferredHolder: 'billing-next' },
    ],
    [
      'members of an older version (no ttl, no share count), not bound',
      { members: { a: { until: 1_764_560_000_000 }, b: { until: 1_764_560_004_000 } } },
      { [MEMBERS_ANNOTATION]: '{"a":1764560000000,"b":1764560004000}' },
      { members: { a: { until: 1_764_560_000_000 }, b: { until: 1_764_560_004_000 } } },
    ],
    [
      'members with ttl and share count: the number for older versions, the rest under ""',
      {
        members: {
          a: { until: 1_764_560_000_000, ttl: 90_000, shares: 6 },
          b: { until: 1_764_560_004_000 },
        },
      },
      {
        [MEMBERS_ANNOTATION]:
          '{"a":1764560000000,"b":1764560004000,"":{"a":{"ttl":90000,"shares":6}}}',
      },
      {
        members: {
          a: { until: 1_764_560_000_000, ttl: 90_000, shares: 6 },
          b: { until: 1_764_560_004_000 },
        },
      },
    ],
    ['no members left', { members: {} }, { [MEMBERS_ANNOTATION]: '{}' }, { members: {} }],
    ['an empty successor is none', { preferredHolder: '' }, {}, {}],
    [
      "the releasing holder's revision, bound to the released record",
      { revision: '7d9f8b6c4' },
      {
        [REVISION_ANNOTATION]: '{"revision":"7d9f8b6c4","holderIdentity":"","transitions":4}',
      },
      { revision: '7d9f8b6c4' },
    ],
    [
      'announced candidates, oldest first, bound to the record',
      {
        candidates: [
          { identity: 'app-5c6d-x', revision: '5c6d' },
          { identity: 'app-8e9f-y', revision: '8e9f' },
        ],
      },
      {
        [CANDIDATES_ANNOTATION]:
          '{"candidates":[{"identity":"app-5c6d-x","revision":"5c6d"},' +
          '{"identity":"app-8e9f-y","revision":"8e9f"}],"holderIdentity":"","transitions":4}',
      },
      {
        candidates: [
          { identity: 'app-5c6d-x', revision: '5c6d' },
          { identity: 'app-8e9f-y', revision: '8e9f' },
        ],
      },
    ],
  ])('%s', (_name, fields, annotations, decoded) => {
    const spec = { ...RELEASE, ...fields };
    const encoded = encodeAnnotations(undefined, spec, REQUEST);
    expect(encoded ?? {}).toEqual(annotations);
    expect(decodeAnnotations(encoded, spec)).toEqual(decoded);
  });
});

describe('lease annotations: decoding what a Lease holds', () => {
  const successor = (value: object | string) => ({
    [PREFERRED_HOLDER_ANNOTATION]: typeof value === 'string' ? value : JSON.stringify(value),
  });
  it.each<[string, Record<string, string> | undefined, Binding, object]>([
    ['no annotations', undefined, released, {}],
    ['only foreign annotations', { note: 'kept' }, released, {}],
    [
      'a successor of this release',
      successor({ holder: 'b', holderIdentity: '', transitions: 4 }),
      released,
      { preferredHolder: 'b' },
    ],
    [
      'the format before the holder binding (on a released record)',
      successor({ holder: 'b', transitions: 4 }),
      released,
      { preferredHolder: 'b' },
    ],
    [
      'the format before the holder binding, on a held record',
      successor({ holder: 'b', transitions: 4 }),
      { holderIdentity: 'go', leaseTransitions: 4 },
      {},
    ],
    [
      'stale: another holder, same transitions',
      successor({ holder: 'b', holderIdentity: '', transitions: 4 }),
      { holderIdentity: 'go', leaseTransitions: 4 },
      {},
    ],
    [
      'stale: a later term (transitions differ)',
      successor({ holder: 'b', holderIdentity: '', transitions: 4 }),
      { holderIdentity: '', leaseTransitions: 5 },
      {},
    ],
    [
      'a record without leaseTransitions',
      successor({ holder: 'b', holderIdentity: '', transitions: 4 }),
      { holderIdentity: null, leaseTransitions: null },
      {},
    ],
    [
      'no holder field on the record counts as released',
      successor({ holder: 'b', holderIdentity: '', transitions: 4 }),
      { holderIdentity: null, leaseTransitions: 4 },
      { preferredHolder: 'b' },
    ],
    ['malformed JSON', successor('{"holder":'), released, {}],
    ['a bare string', successor('b'), released, {}],
    ['JSON null', successor('null'), released, {}],
    ['an array', successor('["b"]'), released, {}],
    ['holder of the wrong type', successor({ holder: 7, transitions: 4 }), released, {}],
    ['an empty holder', successor({ holder: '', transitions: 4 }), released, {}],
    [
      'binding holder of the wrong type',
      successor({ holder: 'b', holderIdentity: 0, transitions: 4 }),
      released,
      {},
    ],
    ['transitions as a string', successor({ holder: 'b', transitions: '4' }), released, {}],
    [
      'members of the wrong type are dropped, the others kept',
      { [MEMBERS_ANNOTATION]: '{"a":1764560000000,"b":"soon","c":null,"d":1.5}' },
      released,
      { members: { a: { until: 1_764_560_000_000 }, d: { until: 1.5 } } },
    ],
    [
      'member ttl and share count of the wrong type are dropped, the entry kept',
      {
        [MEMBERS_ANNOTATION]:
          '{"a":1,"b":2,"":{"a":{"ttl":"long","shares":6},"b":7,"c":{"ttl":1}}}',
      },
      released,
      { members: { a: { until: 1, shares: 6 }, b: { until: 2 } } },
    ],
    [
      'members are read whatever the holder and transitions',
      { [MEMBERS_ANNOTATION]: '{"a":1}' },
      { holderIdentity: 'x', leaseTransitions: 9 },
      { members: { a: { until: 1 } } },
    ],
    [
      'a revision kept into a later term by another holder (client-go keeps annotations)',
      { [REVISION_ANNOTATION]: '{"revision":"v1","holderIdentity":"a","transitions":4}' },
      { holderIdentity: 'go', leaseTransitions: 5 },
      {},
    ],
    [
      'a revision of the current holder and term',
      { [REVISION_ANNOTATION]: '{"revision":"v1","holderIdentity":"a","transitions":4}' },
      { holderIdentity: 'a', leaseTransitions: 4 },
      { revision: 'v1' },
    ],
    [
      'a revision that is no label value',
      { [REVISION_ANNOTATION]: '{"revision":"-v1 ","holderIdentity":"","transitions":4}' },
      released,
      {},
    ],
    [
      "candidates of an earlier term of the same holder's identity",
      {
        [CANDIDATES_ANNOTATION]:
          '{"candidates":[{"identity":"n","revision":"v2"}],"holderIdentity":"a","transitions":3}',
      },
      { holderIdentity: 'a', leaseTransitions: 4 },
      {},
    ],
    [
      'candidates: malformed entries dropped, the others kept',
      {
        [CANDIDATES_ANNOTATION]:
          '{"candidates":[{"identity":"n","revision":"v2"},{"identity":7,"revision":"v2"},' +
          '{"identity":"m"},"x"],"holderIdentity":"","transitions":4}',
      },
      released,
      { candidates: [{ identity: 'n', revision: 'v2' }] },
    ],
    ['members: malformed JSON', { [MEMBERS_ANNOTATION]: '{"a":' }, released, {}],
    ['members: an array', { [MEMBERS_ANNOTATION]: '[1,2]' }, released, {}],
  ])('%s', (_name, annotations, binding, decoded) => {
    expect(decodeAnnotations(annotations, binding)).toEqual(decoded);
  });
});

describe('lease annotations: encoding onto a basis', () => {
  const stale = {
    note: 'kept',
    [PREFERRED_HOLDER_ANNOTATION]: '{"holder":"old","transitions":2}',
    [MEMBERS_ANNOTATION]: '{"gone":1}',
  };
  it.each<[string, Record<string, string> | undefined, Partial<LeaseSpec>, object | undefined]>([
    ['no basis, nothing of ours: no annotations', undefined, {}, undefined],
    ['foreign annotations are kept as they are', { note: 'kept' }, {}, { note: 'kept' }],
    ['our stale annotations are dropped', stale, {}, { note: 'kept' }],
    [
      'our stale annotations are replaced by what the spec has',
      stale,
      { preferredHolder: 'new', members: { a: { until: 1 } } },
      {
        note: 'kept',
        [PREFERRED_HOLDER_ANNOTATION]: '{"holder":"new","holderIdentity":"","transitions":4}',
        [MEMBERS_ANNOTATION]: '{"a":1}',
      },
    ],
    [
      'only ours: dropping them leaves no annotations',
      { [MEMBERS_ANNOTATION]: '{"gone":1}' },
      {},
      undefined,
    ],
  ])('%s', (_name, basis, fields, expected) => {
    expect(encodeAnnotations(basis, { ...RELEASE, ...fields }, REQUEST)).toEqual(expected);
  });

  it('does not change the basis it is given', () => {
    const basis = { ...stale };
    encodeAnnotations(basis, { ...RELEASE, members: { a: { until: 1 } } }, REQUEST);
    expect(basis).toEqual(stale);
  });
});

describe('lease annotations: size budget', () => {
  /** Members whose annotation takes at least `bytes` bytes, key included (31 bytes an entry). */
  const membersOfSize = (bytes: number) =>
    Object.fromEntries(
      Array.from({ length: Math.ceil(bytes / 31) }, (_, i) => [
        `replica-${String(i).padStart(6, '0')}`,
        { until: 1_764_560_000_000 },
      ]),
    );
  const big = (bytes: number) => ({
    'example.com/big': 'x'.repeat(bytes - 'example.com/big'.length),
  });

  it('counts keys and values in UTF-8 bytes, as the API server does', () => {
    expect(sizeOf({ ab: 'cd', é: '€' })).toBe(4 + 2 + 3);
  });

  it.each<[string, Record<string, string>, number]>([
    ['no other annotations', {}, ANNOTATIONS_SIZE_LIMIT - ANNOTATIONS_SAFETY_MARGIN],
    ['a large foreign annotation', big(200 * 1024), 40 * 1024],
  ])('budget beside %s', (_name, foreign, budget) => {
    expect(annotationBudget(foreign)).toBe(budget);
  });

  it.each<[string, Record<string, string> | undefined, number, boolean]>([
    ['members that fit alone', undefined, 200 * 1024, true],
    ['members over the budget alone', undefined, 241 * 1024, false],
    ['members that fit beside a large foreign annotation', big(200 * 1024), 39 * 1024, true],
    ['members that do not fit beside it', big(200 * 1024), 41 * 1024, false],
    [
      'our own stale annotation on the basis does not count',
      { ...big(200 * 1024), [MEMBERS_ANNOTATION]: 'y'.repeat(30 * 1024) },
      39 * 1024,
      true,
    ],
  ])('%s', (_name, basis, bytes, fits) => {
    const members = membersOfSize(bytes);
    const encode = () => encodeAnnotations(basis, { ...RELEASE, members }, REQUEST);
    if (fits) {
      expect(encode()?.[MEMBERS_ANNOTATION]).toBe(
        JSON.stringify(Object.fromEntries(Object.keys(members).map((k) => [k, 1_764_560_000_000]))),
      );
      return;
    }
    const error = (() => {
      try {
        encode();
      } catch (e) {
        return e as LockAnnotationTooLargeError;
      }
      throw new Error('encoded');
    })();
    expect(error).toBeInstanceOf(LockAnnotationTooLargeError);
    expect(error.name).toBe('LockAnnotationTooLargeError');
    expect(error.annotation).toBe(MEMBERS_ANNOTATION);
    expect(error.budget).toBe(annotationBudget(basis ?? {}));
    expect(error.size).toBeGreaterThan(error.budget);
    expect(error.message).toBe(
      `${REQUEST}: not sent: annotation "${MEMBERS_ANNOTATION}" would take ${error.size} bytes ` +
        `(${error.size} for all of this library's annotations), over their budget of ` +
        `${error.budget} bytes on this Lease: the API server allows ${ANNOTATIONS_SIZE_LIMIT} bytes ` +
        `for all annotations of an object, other annotations take ${sizeOf(basis ?? {})}, and ` +
        `${ANNOTATIONS_SAFETY_MARGIN} are left free for them`,
    );
  });

  it('names the largest of ours and counts them together', () => {
    const basis = big(ANNOTATIONS_SIZE_LIMIT - ANNOTATIONS_SAFETY_MARGIN - 150);
    const spec = {
      ...RELEASE,
      preferredHolder: 'p'.repeat(40),
      members: { ['m'.repeat(30)]: { until: 1 } },
    };
    const ours = encodeAnnotations(undefined, spec, REQUEST)!;
    const error = (() => {
      try {
        encodeAnnotations(basis, spec, REQUEST);
      } catch (e) {
        return e as LockAnnotationTooLargeError;
      }
      throw new Error('encoded');
    })();
    expect(error.annotation).toBe(PREFERRED_HOLDER_ANNOTATION);
    expect(error.budget).toBe(150);
    // Each fits alone; together they do not.
    expect(error.size).toBeLessThanOrEqual(150);
    expect(error.message).toContain(`would take ${error.size} bytes (${sizeOf(ours)} for all`);
    expect(sizeOf(ours)).toBeGreaterThan(150);
  });

  it('a write without annotations of ours is never refused for the size of the others', () => {
    const basis = big(ANNOTATIONS_SIZE_LIMIT - 10);
    expect(encodeAnnotations(basis, RELEASE, REQUEST)).toEqual(basis);
  });
});
