// The test kubelet's pod network, as a CNI bridge plugin lays it out, but entirely inside network
// namespaces the kubelet creates (the host's interfaces and routes are never touched):
//
//   node netns  nkl-<pid>-<id>-node   bridge br0 with the subnet's first address (the pods' gateway)
//   pod netns   nkl-<pid>-<id>-pod<n> eth0 (a veth whose peer veth<n> is a port of br0) with the
//                                     pod's address, a default route via the gateway, lo up with the
//                                     "kubernetes" Service IP on it (the sandbox forwards it to the
//                                     API server through a unix socket, which crosses namespaces)
//
// The API server stays on the host's loopback: pods reach it through the Service IP on their own
// loopback, as before, so nothing has to listen on or route to a new address on the host. Pods reach
// each other by address over the bridge. Deleting a pod's namespace removes its veth pair; deleting
// the node namespace removes the bridge. Namespaces of a kubelet process that is gone (a crash) are
// removed by the next kubelet that sets up a network, or by `npm run kubelet -- down`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_POD_SUBNET,
  netnsNames,
  parsePodSubnet,
  PodAddresses,
  staleNetns,
  type NetnsNames,
  type PodSubnet,
} from './pod-addresses.js';

/** One pod's place on the network. */
export interface PodAttachment {
  /** The pod's network namespace: its name, and the file `nsenter --net=` takes. */
  readonly netns: string;
  readonly netnsPath: string;
  readonly ip: string;
}

export interface PodNetworkOptions {
  /** IPv4 CIDR; default `NKL_POD_SUBNET`, else 10.244.0.0/24. */
  readonly subnet?: string;
  readonly log?: (line: string) => void;
}

export class PodNetwork {
  private readonly addresses: PodAddresses;
  private readonly attached = new Set<PodAttachment>();
  private nextIndex = 0;

  private constructor(
    private readonly names: NetnsNames,
    private readonly subnet: PodSubnet,
  ) {
    this.addresses = new PodAddresses(subnet);
  }

  /**
   * Checks what the network needs (fails naming what is missing), removes a crashed run's
   * namespaces, and creates the node namespace with its bridge.
   */
  static create(options: PodNetworkOptions = {}): PodNetwork {
    const subnet = parsePodSubnet(
      options.subnet ?? process.env.NKL_POD_SUBNET ?? DEFAULT_POD_SUBNET,
    );
    requirePodNetworkTools();
    sweepStaleNetns(options.log);
    const network = new PodNetwork(netnsNames(process.pid, randomBytes(2).toString('hex')), subnet);
    const node = network.names.node;
    ip('netns', 'add', node);
    try {
      ip('-n', node, 'link', 'set', 'lo', 'up');
      ip('-n', node, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', node, 'addr', 'add', `${subnet.gateway}/${subnet.prefixLength}`, 'dev', 'br0');
      ip('-n', node, 'link', 'set', 'br0', 'up');
    } catch (error) {
      deleteNetns(node);
      throw error;
    }
    options.log?.(`pod network ${subnet.cidr} (bridge in netns ${node})`);
    return network;
  }

  /** The node's address on the pod network (the bridge): pods' gateway, and their hostIP. */
  get gateway(): string {
    return this.subnet.gateway;
  }

  /** A new pod namespace with an address; `loopbackAddresses` are added to its `lo` (/32). */
  attach(loopbackAddresses: string[] = []): PodAttachment {
    const index = this.nextIndex++;
    const netns = this.names.pod(index);
    const address = this.addresses.allocate();
    const { node } = this.names;
    const veth = `veth${index}`;
    ip('netns', 'add', netns);
    try {
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      for (const extra of loopbackAddresses)
        ip('-n', netns, 'addr', 'add', `${extra}/32`, 'dev', 'lo');
      ip('-n', node, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ip('-n', node, 'link', 'set', veth, 'master', 'br0', 'up');
      ip('-n', netns, 'addr', 'add', `${address}/${this.subnet.prefixLength}`, 'dev', 'eth0');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      ip('-n', netns, 'route', 'add', 'default', 'via', this.subnet.gateway);
    } catch (error) {
      deleteNetns(netns);
      this.addresses.release(address);
      throw error;
    }
    const attachment = { netns, netnsPath: `/run/netns/${netns}`, ip: address };
    this.attached.add(attachment);
    return attachment;
  }

  /** Removes the pod's namespace (its veth pair goes with it) and frees its address. */
  detach(attachment: PodAttachment): void {
    if (!this.attached.delete(attachment)) return;
    deleteNetns(attachment.netns);
    this.addresses.release(attachment.ip);
  }

  /** Removes every pod namespace and the node namespace (the bridge goes with it). */
  destroy(): void {
    for (const attachment of [...this.attached]) this.detach(attachment);
    deleteNetns(this.names.node);
  }
}

/**
 * Removes the namespaces of test kubelets whose process is gone, killing what still runs in them
 * (a crashed run's pods). Returns their names.
 */
export function sweepStaleNetns(log?: (line: string) => void): string[] {
  const stale = staleNetns(ip('netns', 'list').split('\n'), isAlive);
  for (const netns of stale) {
    for (const pid of ip('netns', 'pids', netns).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    deleteNetns(netns);
    log?.(`removed network namespace ${netns} (its kubelet is gone)`);
  }
  return stale;
}

/** Fails naming what is missing when this machine cannot create the pods' network namespaces. */
export function requirePodNetworkTools(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) {
    missing.push(
      `root (network namespaces, veth pairs and a bridge; this is uid ${process.getuid?.()})`,
    );
  }
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nsenter', 'util-linux'],
  ]) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) {
      missing.push(`\`${tool}\` (Debian package ${pkg})`);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `test kubelet: each pod gets its own network namespace and address, which needs ${missing.join(' and ')}`,
    );
  }
}

function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`test kubelet: ip ${args.join(' ')} failed: ${stderr || String(error)}`, {
      cause: error,
    });
  }
}

function deleteNetns(netns: string): void {
  try {
    ip('netns', 'delete', netns);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
