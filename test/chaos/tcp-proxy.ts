// A loopback TCP proxy in front of the API server, one per replica, to cut or slow that replica's
// connection only. TLS passes through untouched (the serving certificate names 127.0.0.1).
import net from 'node:net';

export class TcpProxy {
  private server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Client sockets whose data from the server is dropped, see {@link blackhole}. */
  private readonly blackholed = new Set<net.Socket>();
  /** Client sockets whose data from the server waits here, see {@link holdBack}. */
  private readonly held = new Map<net.Socket, Buffer[]>();
  /** The client socket of each upstream socket. */
  private readonly clientOf = new Map<net.Socket, net.Socket>();
  private cut = false;
  private delayMs = 0;
  port = 0;
  /** Connections forwarded to the API server so far. */
  accepted = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on `port` (default: any free one) and returns the port. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Drops every open connection and refuses new ones until {@link restore}. */
  cutOff(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Black-holes the connections open at this moment: they stay open, the client's data still
   * reaches the server, but nothing from the server reaches the client any more (a dead NAT entry,
   * a stuck middlebox). New connections work. {@link restore} resets the black-holed ones.
   * Returns how many connections were black-holed.
   */
  blackhole(): number {
    for (const [, client] of this.clientOf) this.blackholed.add(client);
    return this.blackholed.size;
  }

  /**
   * Holds back the connections open at this moment: they stay open, what the client sends on them
   * is dropped, and what the server sends waits here until {@link restore} delivers it all at once;
   * new connections are refused meanwhile. The client's requests fail, while a watch open on one of
   * these connections falls silent and later delivers every event it missed in one burst.
   * Returns how many connections are held.
   */
  holdBack(): number {
    this.cut = true;
    for (const [, client] of this.clientOf) this.held.set(client, []);
    return this.held.size;
  }

  /** Delays every chunk in both directions by `ms` (0 to stop delaying). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  restore(): void {
    this.cut = false;
    this.delayMs = 0;
    for (const client of this.blackholed) client.destroy();
    this.blackholed.clear();
    for (const [client, chunks] of this.held)
      if (!client.destroyed) client.write(Buffer.concat(chunks));
    this.held.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    this.accepted += 1;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.clientOf.set(upstream, client);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.clientOf.delete(socket);
        this.blackholed.delete(socket);
        this.held.delete(socket);
      });
      socket.on('error', () => undefined);
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Forwards in order; with a delay, each chunk leaves `delayMs` after it arrived. */
  private pipe(from: net.Socket, to: net.Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (this.blackholed.has(to)) return; // from the server to a black-holed client: dropped
      if (this.held.has(from)) return; // from a held client: dropped
      const held = this.held.get(to);
      if (held) {
        held.push(chunk); // from the server to a held client: kept for later
        return;
      }
      const delay = this.delayMs;
      if (delay === 0) {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      const due = Date.now() + delay;
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(
              () => {
                if (!to.destroyed) to.write(chunk);
                resolve();
              },
              Math.max(0, due - Date.now()),
            ),
          ),
      );
    });
  }
}
