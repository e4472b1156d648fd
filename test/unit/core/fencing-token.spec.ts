import { FencingToken, LeaderElectionError } from '../../../lib/core/index.js';

describe('FencingToken', () => {
  it.each([
    ['9', '10', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['007', '7', 0],
    ['0', '0', 0],
    ['18446744073709551615', '18446744073709551616', -1], // past uint64
    ['99999999999999999999999999999999999999', '100000000000000000000000000000000000000', -1],
  ])('compares %s with %s as decimal numbers: %i', (a, b, expected) => {
    expect(FencingToken.compare(FencingToken.parse(a), FencingToken.parse(b))).toBe(expected);
    expect(FencingToken.parse(a).isNewerThan(FencingToken.parse(b))).toBe(expected > 0);
    expect(FencingToken.parse(a).equals(FencingToken.parse(b))).toBe(expected === 0);
  });

  it('sorts with compare', () => {
    const tokens = ['100', '20', '3', '1000'].map(FencingToken.parse);
    expect(tokens.sort(FencingToken.compare).map(String)).toEqual(['3', '20', '100', '1000']);
  });

  it('serializes as its decimal string, and converts to bigint', () => {
    const token = FencingToken.parse('00042');
    expect(JSON.stringify({ token })).toBe('{"token":"42"}');
    expect(`${token}`).toBe('42');
    expect(token.toBigInt()).toBe(42n);
  });

  it.each(['', '-1', '1.5', '1e3', ' 1', 'abc'])('refuses %j', (value) => {
    expect(() => FencingToken.parse(value)).toThrow(LeaderElectionError);
  });
});
