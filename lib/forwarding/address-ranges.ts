import { isIP } from 'node:net';

/** An IP address as a number: 32 bits for IPv4 (IPv4-mapped IPv6 included), 128 for IPv6. */
interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A CIDR range: its family, its first address and its prefix length. */
interface Range extends Ip {
  readonly prefix: number;
}

/**
 * The ranges a follower forwards to by default: the private IPv4 ranges (RFC 1918) and IPv6 unique
 * local addresses, where Pod networks live.
 */
export const DEFAULT_ALLOWED_RANGES: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
];

/**
 * Blocks that no range reaches unless it lies within them: a range given for the Pod network
 * (even `0.0.0.0/0`) never sends clients' credentials to this host, to link-local services or to
 * a cloud's metadata server (its own /32 or /128 must be listed for that).
 */
const GUARDED: readonly Range[] = [
  '0.0.0.0/8', // "this network"
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local
  '169.254.169.254/32', // cloud metadata
  '224.0.0.0/4', // multicast
  '255.255.255.255/32', // broadcast
  '::/128', // unspecified
  '::1/128', // loopback
  'fe80::/10', // link-local
  'fd00:ec2::254/128', // cloud metadata (IPv6)
  'ff00::/8', // multicast
].map((text) => parseRange(text)!);

/** The address as a number, or undefined when `text` is no IP literal (zones refused). */
export function parseIp(text: string): Ip | undefined {
  if (text.includes('%')) return undefined;
  const family = isIP(text);
  if (family === 4) return { family: 4, value: ipv4Value(text) };
  if (family !== 6) return undefined;
  const value = ipv6Value(text);
  // IPv4-mapped (::ffff:a.b.c.d) is judged as the IPv4 address it maps.
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** `a.b.c.d/n`, `x::y/n` or a single address; undefined when malformed. */
export function parseRange(text: string): Range | undefined {
  const [address, length, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return undefined;
  const bits = family === 4 ? 32 : 128;
  const prefix = length === undefined ? bits : /^\d{1,3}$/.test(length) ? Number(length) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  const value = family === 4 ? ipv4Value(address) : ipv6Value(address);
  return { family: family as 4 | 6, value: masked(value, bits, prefix), prefix };
}

/**
 * Which addresses followers may forward to: those in `ranges`, except the guarded blocks
 * (loopback, link-local, metadata, multicast, unspecified), which only a range inside them admits.
 */
export class AllowedRanges {
  private readonly ranges: readonly Range[];

  /** `ranges` must have been checked with {@link invalidRange}. */
  constructor(ranges: readonly string[]) {
    this.ranges = ranges.map((text) => parseRange(text)!);
  }

  /** Whether a follower may send requests to `address`. */
  allows(address: string): boolean {
    const ip = parseIp(address);
    if (!ip) return false;
    const guard = GUARDED.filter((block) => contains(block, ip)).sort(
      (a, b) => b.prefix - a.prefix,
    )[0];
    return this.ranges.some(
      (range) =>
        contains(range, ip) && (!guard || (range.prefix >= guard.prefix && contains(guard, range))),
    );
  }
}

/** The first entry of `ranges` that is no CIDR range, if any. */
export function invalidRange(ranges: readonly string[]): string | undefined {
  return ranges.find((text) => typeof text !== 'string' || parseRange(text) === undefined);
}

function contains(range: Range, ip: Ip): boolean {
  if (range.family !== ip.family) return false;
  const bits = range.family === 4 ? 32 : 128;
  return masked(ip.value, bits, range.prefix) === range.value;
}

function masked(value: bigint, bits: number, prefix: number): bigint {
  const host = BigInt(bits - prefix);
  return (value >> host) << host;
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  let groups = text.split(':');
  const last = groups[groups.length - 1];
  if (last.includes('.')) {
    const v4 = ipv4Value(last);
    groups = [...groups.slice(0, -1), (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
  }
  const gap = groups.indexOf('');
  if (gap >= 0) {
    const head = groups.slice(0, gap).filter(Boolean);
    const tail = groups.slice(gap + 1).filter(Boolean);
    groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}
