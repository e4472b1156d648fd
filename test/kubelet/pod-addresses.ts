// The test kubelet's pod network plan, as pure functions: the pod subnet and who gets which address
// in it, and the names of the network namespaces the kubelet creates (so that leftovers of a crashed
// run can be found by name and removed). test/kubelet/pod-network.ts carries the plan out.

/**
 * The default pod subnet. It exists only inside the kubelet's own network namespaces (the host's
 * interfaces and routes never see it), so it cannot clash with the machine's networks; the range
 * is the one clusters commonly give pods. `NKL_POD_SUBNET` or the kubelet's `podSubnet` option
 * changes it.
 */
export const DEFAULT_POD_SUBNET = '10.244.0.0/24';

/** What every network namespace of the test kubelet is named with: `nkl-<pid>-<id>-<what>`. */
export const NETNS_PREFIX = 'nkl-';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 subnet: the first address is the node's (the bridge), the rest up to the last are pods'. */
export interface PodSubnet {
  readonly cidr: string;
  readonly prefixLength: number;
  /** The node's address on the pod network (the bridge), pods' default gateway. */
  readonly gateway: string;
  readonly firstPod: number;
  readonly lastPod: number;
}

/** Parses `a.b.c.d/n` (IPv4, n from 8 to 30); fails naming the rule. */
export function parsePodSubnet(cidr: string): PodSubnet {
  const [address, length, ...rest] = cidr.split('/');
  const prefixLength = Number(length);
  const network = parseIpv4(address);
  if (
    rest.length > 0 ||
    network === null ||
    !/^\d+$/.test(length ?? '') ||
    prefixLength < 8 ||
    prefixLength > 30
  ) {
    throw new Error(
      `pod subnet "${cidr}": must be an IPv4 CIDR a.b.c.d/n with n from 8 to 30 (e.g. ${DEFAULT_POD_SUBNET})`,
    );
  }
  const size = 2 ** (32 - prefixLength);
  if (network % size !== 0) {
    throw new Error(
      `pod subnet "${cidr}": the address must be the first of the range (${formatIpv4(network - (network % size))}/${prefixLength})`,
    );
  }
  return {
    cidr,
    prefixLength,
    gateway: formatIpv4(network + 1),
    firstPod: network + 2,
    lastPod: network + size - 2, // the last address is the broadcast address
  };
}

/** Pod addresses of one subnet: the lowest free one is given, a released one can be given again. */
export class PodAddresses {
  private readonly taken = new Set<number>();

  constructor(readonly subnet: PodSubnet) {}

  allocate(): string {
    for (let address = this.subnet.firstPod; address <= this.subnet.lastPod; address++) {
      if (this.taken.has(address)) continue;
      this.taken.add(address);
      return formatIpv4(address);
    }
    throw new Error(`pod subnet ${this.subnet.cidr} is full (${this.taken.size} pods)`);
  }

  release(address: string): void {
    const value = parseIpv4(address);
    if (value !== null) this.taken.delete(value);
  }
}

/** The names one kubelet's network namespaces take, keyed by its process and a random id. */
export interface NetnsNames {
  readonly node: string;
  pod(index: number): string;
}

export function netnsNames(pid: number, id: string): NetnsNames {
  if (!/^[0-9a-f]{4,8}$/.test(id)) throw new Error(`netns id "${id}": 4 to 8 hex digits`);
  const base = `${NETNS_PREFIX}${pid}-${id}-`;
  return { node: `${base}node`, pod: (index) => `${base}pod${index}` };
}

/**
 * The test kubelet's namespaces among `names` (the lines of `ip netns list`) whose kubelet process
 * is gone: a crashed run's leftovers. Names of anything else are never returned.
 */
export function staleNetns(names: string[], isAlive: (pid: number) => boolean): string[] {
  const ours = /^nkl-(\d+)-[0-9a-f]{4,8}-(node|pod\d+)$/;
  return names
    .map((line) => line.trim().split(/\s/)[0] ?? '')
    .filter((name) => {
      const match = ours.exec(name);
      return match !== null && !isAlive(Number(match[1]));
    });
}

function parseIpv4(text: string | undefined): number | null {
  const match = IPV4.exec(text ?? '');
  if (!match) return null;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return null;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
