// The test kubelet's pod network plan: the subnet, which pod gets which address, and the names of the
// network namespaces (a crashed run's leftovers are found by name, and nothing else ever is).
import {
  netnsNames,
  parsePodSubnet,
  PodAddresses,
  staleNetns,
} from '../../kubelet/pod-addresses.js';

describe('test kubelet pod addresses', () => {
  it('gives the bridge the first address and pods the rest, broadcast excluded', () => {
    const subnet = parsePodSubnet('10.244.0.0/24');
    expect(subnet.gateway).toBe('10.244.0.1');
    expect(subnet.prefixLength).toBe(24);
    const addresses = new PodAddresses(parsePodSubnet('10.99.7.0/30'));
    expect(addresses.allocate()).toBe('10.99.7.2');
    expect(() => addresses.allocate()).toThrow('pod subnet 10.99.7.0/30 is full (1 pods)');
  });

  it('gives distinct addresses, the lowest free one first, and a released one again', () => {
    const addresses = new PodAddresses(parsePodSubnet('172.31.255.0/29'));
    const first = ['172.31.255.2', '172.31.255.3', '172.31.255.4'];
    expect(first.map(() => addresses.allocate())).toEqual(first);
    addresses.release('172.31.255.3');
    expect(addresses.allocate()).toBe('172.31.255.3');
    expect(addresses.allocate()).toBe('172.31.255.5');
    expect(addresses.allocate()).toBe('172.31.255.6');
    expect(() => addresses.allocate()).toThrow('is full');
  });

  it('counts across octets', () => {
    const addresses = new PodAddresses(parsePodSubnet('10.1.0.0/16'));
    for (let i = 0; i < 254; i++) addresses.allocate();
    expect(addresses.allocate()).toBe('10.1.1.0');
  });

  it.each([
    ['10.244.0.0', 'must be an IPv4 CIDR'],
    ['10.244.0.0/31', 'n from 8 to 30'],
    ['10.244.0.0/7', 'n from 8 to 30'],
    ['10.244.300.0/24', 'must be an IPv4 CIDR'],
    ['10.244.0.0/2x', 'must be an IPv4 CIDR'],
    ['fd00::/64', 'must be an IPv4 CIDR'],
    ['10.244.0.5/24', 'the first of the range (10.244.0.0/24)'],
  ])('refuses the subnet %s, naming the rule', (cidr, rule) => {
    expect(() => parsePodSubnet(cidr)).toThrow(rule);
  });

  it("names one kubelet's namespaces by its process and id", () => {
    const names = netnsNames(4242, 'ab12');
    expect(names.node).toBe('nkl-4242-ab12-node');
    expect(names.pod(3)).toBe('nkl-4242-ab12-pod3');
    expect(() => netnsNames(1, 'xyz!')).toThrow('4 to 8 hex digits');
  });

  it('finds only the namespaces of kubelets that are gone, never anything else', () => {
    const listed = [
      'nkl-100-ab12-pod0 (id: 3)',
      'nkl-100-ab12-node (id: 2)',
      'nkl-200-cd34-pod0',
      'nkl-200-cd34-node',
      'nkl-100-ab12-other',
      'cni-1234-5678',
      'nkl-abc-ab12-node',
      'my-nkl-100-ab12-node',
      '',
    ];
    const alive = new Set([200]);
    expect(staleNetns(listed, (pid) => alive.has(pid))).toEqual([
      'nkl-100-ab12-pod0',
      'nkl-100-ab12-node',
    ]);
    expect(staleNetns(listed, () => true)).toEqual([]);
  });
});
