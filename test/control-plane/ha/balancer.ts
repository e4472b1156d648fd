// The network in front of and behind the API servers of the HA shape, in one process: a TCP
// balancer (round robin per connection, TLS passed through) with or without `/readyz` health
// checks, and one link per API server and etcd member, so one server can be cut from etcd while its
// clients stay connected to it. Driven through balancer-process.ts's control endpoint.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { TcpProxy } from '../../chaos/tcp-proxy.js';

export interface BalancerConfig {
  port: number;
  controlPort: number;
  servers: Array<{ port: number; etcdLinks: Array<{ port: number; member: number }> }>;
  memberPorts: number[];
  caFile: string;
  healthChecks: boolean;
}

/** One command of the control endpoint. */
export type BalancerCommand =
  | { op: 'status' }
  | { op: 'health-checks'; on: boolean }
  /** New connections go only to `server` (null: round robin again); `drop` closes the others' clients. */
  | { op: 'pin'; server: number | null; drop?: boolean }
  /** Closes every client connection (of `server` only, if given): clients reconnect through the balancer. */
  | { op: 'drop'; server?: number }
  | { op: 'cut-etcd'; server: number }
  | { op: 'delay-etcd'; server: number; ms: number }
  | { op: 'restore-etcd'; server: number };

export interface BalancerStatus {
  healthChecks: boolean;
  pinned: number | null;
  servers: Array<{ port: number; healthy: boolean; open: number; accepted: number; cut: boolean }>;
}

/** Consecutive failed `/readyz` checks that take a server out, as a managed balancer does. */
const UNHEALTHY_AFTER = 2;
const CHECK_EVERY_MS = 1_000;

interface Backend {
  port: number;
  healthy: boolean;
  failures: number;
  accepted: number;
  clients: Set<net.Socket>;
  links: TcpProxy[];
  cut: boolean;
}

export class Balancer {
  private readonly front: net.Server;
  private readonly backends: Backend[];
  private healthChecks: boolean;
  private pinned: number | null = null;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly ca: Buffer;

  constructor(private readonly config: BalancerConfig) {
    this.ca = fs.readFileSync(config.caFile);
    this.healthChecks = config.healthChecks;
    this.backends = config.servers.map((server) => ({
      port: server.port,
      healthy: true,
      failures: 0,
      accepted: 0,
      clients: new Set(),
      links: server.etcdLinks.map((link) => new TcpProxy(config.memberPorts[link.member])),
      cut: false,
    }));
    this.front = net.createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    for (const [s, backend] of this.backends.entries())
      for (const [j, link] of backend.links.entries())
        await link.listen(this.config.servers[s].etcdLinks[j].port);
    await new Promise<void>((resolve, reject) => {
      this.front.once('error', reject);
      this.front.listen(this.config.port, '127.0.0.1', resolve);
    });
    this.timer = setInterval(() => void this.checkAll(), CHECK_EVERY_MS);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const backend of this.backends) {
      for (const client of backend.clients) client.destroy();
      await Promise.all(backend.links.map((link) => link.close()));
    }
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
  }

  command(command: BalancerCommand): BalancerStatus {
    switch (command.op) {
      case 'health-checks':
        this.healthChecks = command.on;
        break;
      case 'pin':
        this.pinned = command.server;
        if (command.drop && command.server !== null)
          this.backends.forEach((b, i) => i !== command.server && this.dropClients(b));
        break;
      case 'drop':
        this.backends.forEach((b, i) => (command.server ?? i) === i && this.dropClients(b));
        break;
      case 'cut-etcd':
        this.backends[command.server].cut = true;
        for (const link of this.backends[command.server].links) link.cutOff();
        break;
      case 'delay-etcd':
        for (const link of this.backends[command.server].links) link.delay(command.ms);
        break;
      case 'restore-etcd':
        this.backends[command.server].cut = false;
        for (const link of this.backends[command.server].links) link.restore();
        break;
    }
    return this.status();
  }

  status(): BalancerStatus {
    return {
      healthChecks: this.healthChecks,
      pinned: this.pinned,
      servers: this.backends.map((b) => ({
        port: b.port,
        healthy: b.healthy,
        open: b.clients.size,
        accepted: b.accepted,
        cut: b.cut,
      })),
    };
  }

  private dropClients(backend: Backend): void {
    for (const client of backend.clients) client.destroy();
  }

  /** Round robin over the servers in service: all, or the healthy ones (none healthy: all, fail open). */
  private choose(): Backend {
    if (this.pinned !== null) return this.backends[this.pinned];
    const healthy = this.backends.filter((b) => b.healthy);
    const pool = this.healthChecks && healthy.length ? healthy : this.backends;
    return pool[this.next++ % pool.length];
  }

  private accept(client: net.Socket): void {
    const backend = this.choose();
    backend.accepted += 1;
    backend.clients.add(client);
    const upstream = net.connect(backend.port, '127.0.0.1');
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    client.on('close', () => {
      backend.clients.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private async checkAll(): Promise<void> {
    await Promise.all(
      this.backends.map(async (backend) => {
        const ready = await this.readyz(backend.port);
        backend.failures = ready ? 0 : backend.failures + 1;
        backend.healthy = backend.failures < UNHEALTHY_AFTER;
      }),
    );
  }

  private readyz(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const request = https.get(
        { host: '127.0.0.1', port, path: '/readyz', ca: this.ca, agent: false, timeout: 1_000 },
        (response) => {
          response.resume();
          resolve(response.statusCode === 200);
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => resolve(false));
    });
  }
}
