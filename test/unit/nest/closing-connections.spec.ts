// A replica that keeps a leader-only Service's slice closes the connection when it answers a
// `@LeaderOnly` HTTP handler without running it (it does not lead): a client that kept a connection
// to it from when it led (keep-alive through the Service) connects again and reaches the replica the
// slice names now. Without a slice, refusals keep the connection open. Real Nest apps over HTTP, the
// in-memory Lease held by another replica.
import 'reflect-metadata';
import { request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderElector } from '../../../lib/core/index.js';
import { SingleElection } from '../../../lib/core/single-election.js';
import { Election } from '../../../lib/election.js';
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
}

const apps: INestApplication[] = [];
const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(electors.splice(0).map((elector) => elector.stop()));
});

/** A follower app whose election `slice` keeps a slice (or not); another replica leads. */
async function follower(closesConnections: boolean): Promise<string> {
  const store = new InMemoryLeaseStore();
  const leader = new LeaderElector({
    lock: new InMemoryLeaseLock(store, 'leader'),
    leaseName: 'work',
  });
  const self = new LeaderElector({ lock: new InMemoryLeaseLock(store, 'self'), leaseName: 'work' });
  electors.push(leader, self);
  leader.start();
  await eventually(() => leader.isLeader());
  self.start();
  await eventually(() => self.getLeader() === 'leader');
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
  app
    .get(LeaderElectionRegistry)
    .register(
      new Election(
        'slice',
        'work',
        undefined,
        new SingleElection(self),
        undefined,
        undefined,
        undefined,
        undefined,
        closesConnections,
      ),
    );
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/work`;
}

/** Two GETs over one keep-alive agent: the answers' status and Connection header, and sockets used. */
async function twoRequests(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  const get = () =>
    new Promise<{ status?: number; connection?: string }>((resolve, reject) => {
      const req = httpRequest(url, { agent }, (res) => {
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

describe('closing connections on refusals of a replica that keeps the leader slice', () => {
  it('answers 503 with Connection: close, so the client connects again', async () => {
    const { answers, sockets } = await twoRequests(await follower(true));
    expect(answers).toEqual([
      { status: 503, connection: 'close' },
      { status: 503, connection: 'close' },
    ]);
    expect(sockets).toBe(2);
  });

  it('keeps the connection without a slice', async () => {
    const { answers, sockets } = await twoRequests(await follower(false));
    expect(answers.map((a) => [a.status, a.connection])).toEqual([
      [503, 'keep-alive'],
      [503, 'keep-alive'],
    ]);
    expect(sockets).toBe(1);
  });
});
