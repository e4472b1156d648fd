// Followers forward requests for @LeaderOnly({ forward: true }) handlers to the leader: real Nest
// apps (Express) and real HTTP servers on loopback addresses, the Lease in memory.
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Body,
  Controller,
  Header,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../../lib/index.js';
import { LeaderElector } from '../../../lib/core/index.js';
import type { ForwardingOptions } from '../../../lib/forwarding/forwarding-options.js';
import { MAX_UNPARSED_BODY } from '../../../lib/forwarding/forward-request.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

const SECRET = 'forwarding-test-secret-0123456789abcdef';
const LOOPBACK = { allowedRanges: ['127.0.0.0/8'], secret: SECRET };

/** What ran where: each handler call, on which replica, whether it led then, the bytes it got. */
const runs: { identity: string; leading: boolean; raw: string }[] = [];

@Controller('hooks')
class HooksController {
  constructor(private readonly leader: LeaderService) {}

  @Post()
  @LeaderOnly({ forward: true })
  @HttpCode(202)
  @Header('x-handled', 'yes')
  receive(@Req() request: { rawBody?: Buffer }, @Body() body: unknown) {
    runs.push({
      identity: this.leader.identity,
      leading: this.leader.isLeader(),
      raw: request.rawBody?.toString('utf8') ?? '',
    });
    return { ranOn: this.leader.identity, body };
  }

  @Post('plain')
  @LeaderOnly()
  plain() {
    return { ranOn: this.leader.identity };
  }
}

interface Replica {
  readonly app: INestApplication;
  readonly url: string;
  readonly results: string[];
  readonly logger: RecordingLoggerService;
}

const apps: INestApplication[] = [];
const closers: (() => Promise<unknown>)[] = [];

async function replica(
  store: InMemoryLeaseStore,
  identity: string,
  ip: string,
  forwarding: ForwardingOptions,
): Promise<Replica> {
  const results: string[] = [];
  const logger = new RecordingLoggerService();
  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        leaseName: 'hooks',
        lock: new InMemoryLeaseLock(store, identity),
        logger,
        forwarding: { address: ip, ...forwarding },
        metrics: { forwardedRequest: (_name, result) => results.push(result) },
      }),
    ],
    controllers: [HooksController],
  })
  class AppModule {}
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger,
    abortOnError: false,
    rawBody: true,
  });
  app.useBodyParser('text');
  apps.push(app);
  await app.listen(0, ip);
  return {
    app,
    url: `http://${ip}:${(app.getHttpServer().address() as AddressInfo).port}`,
    results,
    logger,
  };
}

/** A server at `ip` standing in for a leader that misbehaves; counts the requests it gets. */
async function fakeLeader(
  store: InMemoryLeaseStore,
  ip: string,
  answer: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits++;
    answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const elector = new LeaderElector({ lock: new InMemoryLeaseLock(store, 'fake-leader') });
  elector.advertise({ ip, port: (server.address() as AddressInfo).port });
  elector.start();
  await elector.waitForLeadership();
  closers.push(async () => {
    await elector.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { hits: () => hits };
}

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

beforeEach(() => {
  runs.length = 0;
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const close of closers.splice(0)) await close();
});

describe('forwarding to the leader', () => {
  it('runs the request once, on the leader, with the bytes as sent, and passes its answer back', async () => {
    const store = new InMemoryLeaseStore();
    const a = await replica(store, 'a', '127.0.0.2', LOOPBACK);
    await eventually(() => a.app.get(LeaderService).isLeader());
    const b = await replica(store, 'b', '127.0.0.3', LOOPBACK);
    await eventually(() => b.app.get(LeaderService).getLeader() === 'a');

    const json = '{"amount":  12.50, "note":"caf\u00e9 \u2603"}';
    const answer = await post(`${b.url}/hooks?x=1`, json, { authorization: 'Bearer t' });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-handled')).toBe('yes');
    expect(await answer.json()).toEqual({
      ranOn: 'a',
      body: { amount: 12.5, note: 'caf\u00e9 \u2603' },
    });
    const text = 'line one\r\n  line two';
    const plain = await post(`${b.url}/hooks`, text, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(202);
    expect(runs).toEqual([
      { identity: 'a', leading: true, raw: json },
      { identity: 'a', leading: true, raw: text },
    ]);
    expect(b.results).toEqual(['answered', 'answered']);
  });

  it('answers 504 "may have run" when the leader does not answer, and never sends it again', async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', () => undefined); // never answers
    const b = await replica(store, 'b', '127.0.0.3', { ...LOOPBACK, timeout: 300 });
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    const answer = await post(`${b.url}/hooks`, '{}');
    expect(answer.status).toBe(504);
    expect(((await answer.json()) as { message: string }).message).toMatch(/may have run/);
    expect(leader.hits()).toBe(1);
    expect(b.results).toEqual(['timeout']);
  });

  it("sends once more only on the leader's not-leader 503, then answers 503", async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', (_request, response) => {
      response.writeHead(503, { 'x-leader-refused': 'not-leader' }).end('{}');
    });
    // The leader does not move: the retry goes to it again once the wait (the timeout) is over.
    const b = await replica(store, 'b', '127.0.0.3', { ...LOOPBACK, timeout: 300 });
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    const answer = await post(`${b.url}/hooks`, '{}');
    expect(answer.status).toBe(503);
    expect(leader.hits()).toBe(2);
    expect(b.results).toEqual(['refused']);
  });

  it('passes any other answer of the leader on as it is, a 503 of its handler too, sent once', async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', (_request, response) => {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '7' }).end('busy');
    });
    const b = await replica(store, 'b', '127.0.0.3', LOOPBACK);
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    const answer = await post(`${b.url}/hooks`, '{}');
    expect([answer.status, answer.headers.get('retry-after'), await answer.text()]).toEqual([
      503,
      '7',
      'busy',
    ]);
    expect(leader.hits()).toBe(1);
  });

  it('never sends to a loopback address unless it is in the allowed ranges: 503 instead', async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', (_request, response) => response.end());
    const b = await replica(store, 'b', '127.0.0.3', {}); // default: private ranges only
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    for (let i = 0; i < 2; i++) expect((await post(`${b.url}/hooks`, '{}')).status).toBe(503);
    expect(leader.hits()).toBe(0);
    expect(b.results).toEqual(['not-allowed', 'not-allowed']);
    const warned = b.logger.lines.filter((line) =>
      line.includes('outside forwarding.allowedRanges'),
    );
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('127.0.0.4');
  });

  it('refuses (413) to hold a body no parser read beyond the limit, and sends nothing', async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', (_request, response) => response.end());
    const b = await replica(store, 'b', '127.0.0.3', LOOPBACK);
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    const large = 'x'.repeat(MAX_UNPARSED_BODY + 1);
    const answer = await post(`${b.url}/hooks`, large, {
      'content-type': 'application/octet-stream',
    });
    expect(answer.status).toBe(413);
    expect(leader.hits()).toBe(0);
  });

  it('never forwards a forwarded request again, nor a handler that does not forward', async () => {
    const store = new InMemoryLeaseStore();
    const leader = await fakeLeader(store, '127.0.0.4', (_request, response) => response.end());
    const b = await replica(store, 'b', '127.0.0.3', LOOPBACK);
    await eventually(() => b.app.get(LeaderService).getLeader() === 'fake-leader');
    const looped = await post(`${b.url}/hooks`, '{}', { 'x-leader-forwarded-by': 'c' });
    expect([looped.status, looped.headers.get('x-leader-refused')]).toEqual([503, 'not-leader']);
    expect((await post(`${b.url}/hooks/plain`, '{}')).status).toBe(503);
    expect(leader.hits()).toBe(0);
  });

  it('the leader refuses a forwarded request without a valid signature, before the handler', async () => {
    const store = new InMemoryLeaseStore();
    const a = await replica(store, 'a', '127.0.0.2', LOOPBACK);
    await eventually(() => a.app.get(LeaderService).isLeader());
    const forged = await post(`${a.url}/hooks`, '{}', {
      'x-leader-forwarded-by': 'b',
      'x-leader-signature': `v1=${'0'.repeat(64)}`,
    });
    expect(forged.status).toBe(403);
    expect((await post(`${a.url}/hooks`, '{}')).status).toBe(202); // a client's own request
    expect(runs.map((run) => run.identity)).toEqual(['a']);
  });
});

describe('forwarding set up wrong', () => {
  @Injectable()
  class Jobs {
    @LeaderOnly({ forward: true })
    run() {
      return 1;
    }
  }

  async function init(forwarding: ForwardingOptions | undefined, withJobs = false) {
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: 'hooks',
          lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'a'),
          logger: false,
          ...(forwarding ? { forwarding } : {}),
        }),
      ],
      controllers: [HooksController],
      providers: withJobs ? [Jobs] : [],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    apps.push(app);
    await app.init();
  }

  it('fails at start-up when the election of a forwarding handler has no forwarding option', async () => {
    await expect(init(undefined)).rejects.toThrow(
      /HooksController\.receive: the election "default" has no "forwarding" option/,
    );
  });

  it('fails at start-up on a provider method that is no HTTP handler', async () => {
    await expect(init({}, true)).rejects.toThrow(/Jobs\.run: only HTTP controller handlers/);
  });

  it('fails at start-up naming the option and the rule', async () => {
    await expect(init({ port: 70_000 })).rejects.toThrow(
      /Invalid leader election option "forwarding\.port": must be an integer from 1 to 65535/,
    );
  });
});
