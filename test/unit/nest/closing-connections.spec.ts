// A replica that keeps a leader-only Service's slice and has led closes the connection when it
// answers a `@LeaderOnly` HTTP handler without running it (refused, or forwarded to the leader): a
// client that kept a connection to it from when it led (keep-alive through the Service) connects
// again and reaches the replica the slice names now. A replica that never led (never in the slice),
// or one without a slice, keeps its connections. Real Nest apps over HTTP, the in-memory Lease.
import 'reflect-metadata';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderElector } from '../../../lib/core/index.js';
import { SingleElection } from '../../../lib/core/single-election.js';
import { Election } from '../../../lib/election.js';
import { resolveForwarding } from '../../../lib/forwarding/forwarding-options.js';
import { LeaderElectionRegistry } from '../../../lib/leader-election.registry.js';
import { LeaderElectionModule, LeaderOnly } from '../../../lib/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { eventually } from '../../support/eventually.js';

@Controller('work')
class WorkController {
  @Get()
  @LeaderOnly({ election: 'slice' })
  work() {
    return { ran: true };
  }

  @Post()
  @LeaderOnly({ election: 'slice', forward: true })
  forwarded() {
    return { ran: true };
  }
}

const apps: INestApplication[] = [];
const electors: LeaderElector[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(electors.splice(0).map((elector) => elector.stop()));
  for (const server of servers.splice(0)) server.close();
});

/** A stand-in for the leader's app at 127.0.0.1: answers 200 with keep-alive. */
async function leaderServer(): Promise<number> {
  const server = createServer((_request, response) => response.end('{"ran":"on the leader"}'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * An app whose election `slice` keeps a slice (or not) and, with `led`, led before it stepped down;
 * another replica leads now (and advertises the leader server for forwarding).
 */
async function follower({ keepsSlice, led }: { keepsSlice: boolean; led: boolean }) {
  const store = new InMemoryLeaseStore();
  const timings = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 };
  const elector = (identity: string) => {
    const created = new LeaderElector({
      lock: new InMemoryLeaseLock(store, identity),
      leaseName: 'work',
      ...timings,
    });
    electors.push(created);
    return created;
  };
  const self = elector('self');
  const election = new Election(
    'slice',
    'work',
    undefined,
    new SingleElection(self),
    undefined,
    undefined,
    undefined,
    resolveForwarding({ allowedRanges: ['127.0.0.0/8'], address: '127.0.0.1' }),
    keepsSlice,
  );
  const other = elector('other');
  if (led) {
    self.start();
    await eventually(() => self.isLeader());
    other.start();
    await eventually(() => other.getLeader() === 'self');
    await self.stepDown({ successor: 'other' });
  } else {
    other.start();
    await eventually(() => other.isLeader());
    self.start();
  }
  await eventually(() => other.isLeader() && self.getLeader() === 'other');
  other.advertise({ ip: '127.0.0.1', port: await leaderServer() });
  await eventually(() => self.leaderAddress()?.port !== undefined);
  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        leaseName: 'other',
        lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'self'),
        logger: false,
      }),
    ],
    controllers: [WorkController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  apps.push(app);
  app.get(LeaderElectionRegistry).register(election);
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/work`;
}

/** Two requests over one keep-alive agent: the answers' status and Connection header, and sockets used. */
async function twoRequests(url: string, method = 'GET') {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const get = () =>
    new Promise<{ status?: number; connection?: string }>((resolve, reject) => {
      const req = httpRequest(url, { agent, method }, (res) => {
        sockets.add(res.socket);
        res
          .resume()
          .on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection }));
      });
      req.on('error', reject).end();
    });
  const first = await get();
  const second = await get();
  agent.destroy();
  return { answers: [first, second], sockets: sockets.size };
}

describe('closing connections on answers of a replica that kept the leader slice', () => {
  it('a former leader answers 503 with Connection: close, so the client connects again', async () => {
    const { answers, sockets } = await twoRequests(await follower({ keepsSlice: true, led: true }));
    expect(answers).toEqual([
      { status: 503, connection: 'close' },
      { status: 503, connection: 'close' },
    ]);
    expect(sockets).toBe(2);
  });

  it('a former leader passes the forwarded answer on with Connection: close', async () => {
    const url = await follower({ keepsSlice: true, led: true });
    const { answers, sockets } = await twoRequests(url, 'POST');
    expect(answers).toEqual([
      { status: 200, connection: 'close' },
      { status: 200, connection: 'close' },
    ]);
    expect(sockets).toBe(2);
  });

  it('keeps the connection on a replica that never led, and without a slice', async () => {
    for (const options of [
      { keepsSlice: true, led: false },
      { keepsSlice: false, led: true },
    ]) {
      const url = await follower(options);
      for (const method of ['GET', 'POST']) {
        const { answers, sockets } = await twoRequests(url, method);
        expect(answers.map((a) => a.connection)).toEqual(['keep-alive', 'keep-alive']);
        expect(sockets).toBe(1);
      }
    }
  });
});
