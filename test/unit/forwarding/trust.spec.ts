// What a follower trusts before it sends a client's request (and its Authorization and Cookie
// headers) to the address a Lease names: the allowed ranges, the signature, the headers it passes on.
import { InvalidOptionError } from '../../../lib/core/index.js';
import { AllowedRanges, DEFAULT_ALLOWED_RANGES } from '../../../lib/forwarding/address-ranges.js';
import {
  FORWARDED_BY_HEADER,
  forwardedHeaders,
} from '../../../lib/forwarding/forwarded-headers.js';
import { resolveForwarding } from '../../../lib/forwarding/forwarding-options.js';
import { signRequest, verifySignature } from '../../../lib/forwarding/request-signature.js';

const SECRET = 's'.repeat(32);

describe('allowed ranges', () => {
  const defaults = new AllowedRanges(DEFAULT_ALLOWED_RANGES);

  it.each([
    ['10.244.1.7', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.3.4', true],
    ['fd12:3456::7', true],
    ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false],
    ['2001:db8::1', false],
    ['127.0.0.1', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['169.254.169.254', false],
    ['169.254.10.1', false],
    ['fe80::1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['fe80::1%eth0', false],
    ['billing.example', false],
  ])('by default, %s: %s', (address, allowed) => {
    expect(defaults.allows(address)).toBe(allowed);
  });

  it('never reaches loopback, link-local, metadata or multicast through a wide range', () => {
    const everything = new AllowedRanges(['0.0.0.0/0', '::/0']);
    expect(everything.allows('203.0.113.9')).toBe(true);
    for (const address of [
      '127.0.0.2',
      '::1',
      '169.254.169.254',
      '169.254.3.3',
      'fe80::2',
      '224.0.0.1',
      'fd00:ec2::254',
    ]) {
      expect([address, everything.allows(address)]).toEqual([address, false]);
    }
  });

  it('reaches them only through a range within them, the metadata address only by itself', () => {
    const loopback = new AllowedRanges(['127.0.0.0/8']);
    expect(loopback.allows('127.0.0.3')).toBe(true);
    expect(loopback.allows('10.0.0.1')).toBe(false);
    const linkLocal = new AllowedRanges(['169.254.0.0/16']);
    expect(linkLocal.allows('169.254.3.3')).toBe(true);
    expect(linkLocal.allows('169.254.169.254')).toBe(false);
    expect(new AllowedRanges(['169.254.169.254/32']).allows('169.254.169.254')).toBe(true);
  });
});

describe('forwarding options', () => {
  const invalid = (options: object, env: NodeJS.ProcessEnv = {}) => {
    try {
      resolveForwarding(options as never, env);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('defaults: POD_IP, the private ranges, 10 s, marked handlers only', () => {
    const resolved = resolveForwarding({}, { POD_IP: '10.1.2.3' })!;
    expect(resolved).toMatchObject({
      allHandlers: false,
      address: '10.1.2.3',
      port: undefined,
      secret: undefined,
      timeout: 10_000,
    });
    expect(resolved.allowed.allows('10.9.9.9')).toBe(true);
    expect(resolved.allowed.allows('127.0.0.1')).toBe(false);
    expect(resolveForwarding(undefined)).toBeUndefined();
  });

  it.each<[string, object, NodeJS.ProcessEnv, RegExp]>([
    ['unknown key', { secrets: SECRET }, {}, /"secrets"/],
    [
      'a host name',
      { address: 'leader.local' },
      {},
      /"forwarding\.address": must be an IP address/,
    ],
    ['a bad POD_IP', {}, { POD_IP: 'pod' }, /"POD_IP": must be an IP address/],
    ['port 0', { port: 0 }, {}, /"forwarding\.port": must be an integer from 1 to 65535/],
    [
      'no ranges',
      { allowedRanges: [] },
      {},
      /"forwarding\.allowedRanges": must be a non-empty array/,
    ],
    ['a bad range', { allowedRanges: ['10.0.0.0/33'] }, {}, /allowedRanges.*got "10\.0\.0\.0\/33"/],
    ['timeout 0', { timeout: 0 }, {}, /"forwarding\.timeout"/],
    [
      'allHandlers not boolean',
      { allHandlers: 'yes' },
      {},
      /"forwarding\.allHandlers": must be a boolean/,
    ],
  ])('refuses %s, naming the option and the rule', (_name, options, env, message) => {
    expect(invalid(options, env)).toMatch(message);
  });

  it('refuses a short secret without showing it', () => {
    const message = invalid({ secret: 'hunter2-too-short' });
    expect(message).toMatch(/"forwarding\.secret": must be a string of at least 32 characters/);
    expect(message).not.toContain('hunter2');
  });
});

describe('request signature', () => {
  const request = { method: 'POST', url: '/hooks?x=1', body: Buffer.from('{"a": 1}') };

  it('verifies the bytes signed, and nothing else', () => {
    const header = signRequest(SECRET, request);
    expect(verifySignature(SECRET, request, header)).toBe(true);
    expect(verifySignature(SECRET, { ...request, body: Buffer.from('{"a":1}') }, header)).toBe(
      false,
    );
    expect(verifySignature(SECRET, { ...request, url: '/hooks?x=2' }, header)).toBe(false);
    expect(verifySignature(SECRET, { ...request, method: 'PUT' }, header)).toBe(false);
    expect(verifySignature('t'.repeat(32), request, header)).toBe(false);
    expect(verifySignature(SECRET, request, undefined)).toBe(false);
    expect(verifySignature(SECRET, request, 'v1=00')).toBe(false);
  });
});

describe('forwarded headers', () => {
  it('drops hop-by-hop headers, appends the hop, marks the request', () => {
    const headers = forwardedHeaders(
      {
        host: 'billing.example',
        authorization: 'Bearer t',
        connection: 'keep-alive, x-session-hop',
        'x-session-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        'proxy-authorization': 'Basic x',
        te: 'trailers',
        forwarded: 'for=198.51.100.1',
        'x-forwarded-for': '198.51.100.1',
        'content-type': 'application/json',
      },
      { address: '10.0.0.9', protocol: 'http', host: 'billing.example' },
      'billing-b',
      7,
    );
    expect(headers).toEqual({
      host: 'billing.example',
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'content-length': 7,
      forwarded: 'for=198.51.100.1, for=10.0.0.9;proto=http;host="billing.example"',
      'x-forwarded-for': '198.51.100.1, 10.0.0.9',
      [FORWARDED_BY_HEADER]: 'billing-b',
    });
  });

  it('quotes an IPv6 client in Forwarded', () => {
    const headers = forwardedHeaders(
      {},
      { address: 'fd00::7', protocol: 'https', host: undefined },
      'b',
      0,
    );
    expect(headers.forwarded).toBe('for="[fd00::7]";proto=https');
    expect(headers['content-length']).toBeUndefined();
  });
});
