// Done means for forwarding: three Nest apps on distinct loopback addresses against the real
// kube-apiserver, once on Express and once on Fastify, requests sent round-robin to every replica through a crash of the leader and
// a rolling update (graceful handovers included). Every request that reached a handler ran there
// once, on the leader, with its body's bytes as sent; requests fail only while the replicas do not
// all know one leader.
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  Controller,
  HttpCode,
  Module,
  Param,
  Post,
  Req,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../lib/index.js';
import { kubeConfigFor } from '../control-plane/control-plane.js';
import { loadCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const FORWARDING = {
  allowedRanges: ['127.0.0.0/8'],
  secret: 'e2e-forwarding-secret-0123456789abcdef',
};
/** The key of the "webhook" signature the handler checks over the body's bytes. */
const WEBHOOK_KEY = 'webhook-signing-key';

const sign = (body: Buffer | string) =>
  createHmac('sha256', WEBHOOK_KEY).update(body).digest('hex');

/** Each handler call: the request, where it ran, whether that replica led, the signature check. */
const ran: { id: string; identity: string; leading: boolean; signed: boolean }[] = [];

@Controller('hooks')
class HooksController {
  constructor(private readonly leader: LeaderService) {}

  @Post(':id')
  @HttpCode(200)
  @LeaderOnly({ forward: true })
  receive(
    @Param('id') id: string,
    @Req() request: { rawBody?: Buffer; headers: Record<string, string | undefined> },
  ) {
    const leading = this.leader.isLeader();
    const signed = request.headers['x-webhook-signature'] === sign(request.rawBody ?? '');
    ran.push({ id, identity: this.leader.identity, leading, signed });
    return { id, by: this.leader.identity };
  }
}

/** Fastify's adapter, loaded only for the Fastify run (a devDependency). */
async function fastifyAdapter(): Promise<object> {
  const name = '@nestjs/platform-fastify';
  const { FastifyAdapter } = (await import(name)) as { FastifyAdapter: new () => object };
  return new FastifyAdapter();
}

interface Replica {
  readonly name: string;
  readonly url: string;
  readonly app: INestApplication;
  /** The leader this replica's latest change event named (itself while it leads). */
  knows: string | null;
}

/** A request as the client saw it. */
interface Sent {
  readonly id: string;
  readonly to: Replica;
  readonly phase: string;
  error?: string;
  readonly start: number;
  end: number;
  status: number;
}

describe.each(['express', 'fastify'] as const)(
  'forwarding on a real kube-apiserver (%s)',
  (platform) => {
    let cluster: Cluster;
    let namespace: string;
    const replicas: Replica[] = [];
    /** The replicas the client sends to (a Service's endpoints). */
    const serving: Replica[] = [];
    /** Spans (performance.now()) while the serving replicas did not all know one leader. */
    const unsettled: { from: number; to: number }[] = [];
    let settledNow = false;

    beforeAll(async () => {
      cluster = loadCluster();
      namespace = await cluster.uniqueNamespace('forward');
    });
    afterAll(async () => {
      for (const replica of replicas) await replica.app.close().catch(() => undefined);
    });

    /** Whether every serving replica names the same leader, one that serves. */
    function settled(): boolean {
      const leader = serving[0]?.knows;
      return (
        !!leader &&
        serving.every((replica) => replica.knows === leader) &&
        serving.some((replica) => replica.name === leader)
      );
    }

    function track(): void {
      const now = performance.now();
      const isSettled = settled();
      if (isSettled === settledNow) return;
      settledNow = isSettled;
      if (!isSettled) unsettled.push({ from: now, to: Infinity });
      else if (unsettled.length > 0) unsettled[unsettled.length - 1].to = now;
    }

    async function start(name: string, ip: string, releaseOnShutdown = true): Promise<Replica> {
      @Module({
        imports: [
          LeaderElectionModule.forRoot({
            leaseName: 'hooks',
            namespace,
            identity: name,
            kubeConfig: kubeConfigFor(cluster.state, 'leaseUser'),
            logger: false,
            releaseOnShutdown,
            forwarding: { address: ip, ...FORWARDING },
            ...FAST,
          }),
        ],
        controllers: [HooksController],
      })
      class AppModule {}
      const options = { logger: false as const, rawBody: true };
      const app =
        platform === 'fastify'
          ? await NestFactory.create(AppModule, (await fastifyAdapter()) as never, options)
          : await NestFactory.create(AppModule, options);
      // Bodies of type text/plain are kept as received too (JSON and forms are by default).
      (app as unknown as { useBodyParser(type: string): void }).useBodyParser(
        platform === 'fastify' ? 'text/plain' : 'text',
      );
      await app.listen(0, ip);
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const replica: Replica = { name, url: `http://${ip}:${port}`, app, knows: null };
      replicas.push(replica);
      app
        .get(LeaderService)
        .changes()
        .subscribe((event) => {
          replica.knows = event.leader;
          track();
        });
      return replica;
    }

    function serve(replica: Replica): void {
      serving.push(replica);
      track();
    }

    function unserve(replica: Replica): void {
      serving.splice(serving.indexOf(replica), 1);
      track();
    }

    it('runs each request once, on the leader, through a crash and a rolling update', async () => {
      ran.length = 0;
      const sent: Sent[] = [];
      let next = 0;
      let running = true;
      let phase = 'steady';
      const succeeded = () => sent.filter((s) => s.status === 200).length;
      const client = async () => {
        while (running) {
          const target = serving[next++ % serving.length];
          const id = `r${next}`;
          const body =
            next % 2 === 0
              ? `{"id": "${id}",   "amount": 12.50, "note": "caf\u00e9"}`
              : `plain ${id}\r\n  with bytes \u2603`;
          const type = next % 2 === 0 ? 'application/json' : 'text/plain; charset=utf-8';
          const request: Sent = {
            id,
            to: target,
            phase,
            start: performance.now(),
            end: 0,
            status: 0,
          };
          sent.push(request);
          try {
            const answer = await fetch(`${target.url}/hooks/${id}`, {
              method: 'POST',
              body,
              headers: { 'content-type': type, 'x-webhook-signature': sign(body) },
            });
            request.status = answer.status;
            if (answer.status === 200) {
              expect(((await answer.json()) as { id: string }).id).toBe(id);
            } else await answer.arrayBuffer();
          } catch (error) {
            request.status = -1;
            request.error = String((error as { cause?: unknown }).cause ?? error);
          }
          request.end = performance.now();
        }
      };
      const moreSuccesses = async (count: number, what: string) => {
        const target = succeeded() + count;
        await eventually(() => settled() && succeeded() >= target, 30_000, what);
      };

      // r1 leads, then r2 and r3 follow it.
      const r1 = await start('r1', '127.0.0.2', false); // it will crash: no release
      await eventually(() => r1.knows === 'r1', 20_000, 'r1 to lead');
      serve(r1);
      serve(await start('r2', '127.0.0.3'));
      serve(await start('r3', '127.0.0.4'));
      await eventually(settled, 20_000, 'all to know r1');
      const clients = [client(), client(), client()];
      await moreSuccesses(30, 'requests through the first leader');

      // The leader crashes: it stops answering and leaves the Lease to expire.
      phase = 'crash';
      unserve(r1);
      await r1.app.close();
      await moreSuccesses(30, 'requests through a new leader after the crash');
      serve(await start('r1b', '127.0.0.2'));

      // A rolling update: each replica replaced by a new one on its address, the leader among them.
      phase = 'rolling update';
      for (const old of [...serving]) {
        const fresh = await start(`${old.name}-new`, old.url.slice(7, old.url.lastIndexOf(':')));
        serve(fresh);
        await eventually(settled, 20_000, `${fresh.name} to know the leader`);
        unserve(old);
        // Its endpoint is gone; requests already on their way finish before it stops (a preStop wait).
        await eventually(() => !sent.some((s) => s.to === old && s.end === 0), 30_000, 'drain');
        await old.app.close();
        await moreSuccesses(20, `requests after ${old.name} left`);
      }
      running = false;
      await Promise.all(clients);

      // Each request that reached a handler ran once, on the leader, with the bytes as sent.
      const ids = ran.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ran.filter((r) => !r.leading || !r.signed)).toEqual([]);
      const ok = sent.filter((s) => s.status === 200);
      expect(ok.filter((s) => !ids.includes(s.id))).toEqual([]);
      // Failed requests only while the replicas did not all know one leader.
      const failed = sent.filter((s) => s.status !== 200);
      const outside = failed.filter(
        (s) => !unsettled.some((span) => span.from <= s.end && s.start <= span.to),
      );
      expect(
        outside.map(({ id, to, status, error }) => ({ id, to: to.name, status, error })),
      ).toEqual([]);
      // Leadership moved (the crash, and the old leader's replacement).
      const leaders = new Set(ran.map((r) => r.identity));
      expect(leaders.size).toBeGreaterThanOrEqual(3);
      const figures: Record<string, { sent: number; ok: number; failed: Record<string, number> }> =
        {};
      for (const s of sent) {
        const row = (figures[s.phase] ??= { sent: 0, ok: 0, failed: {} });
        row.sent++;
        if (s.status === 200) row.ok++;
        else row.failed[s.status] = (row.failed[s.status] ?? 0) + 1;
      }
      console.log(
        `forwarding e2e, ${platform} (leaders ${[...leaders].join(' ')}): ${JSON.stringify(figures)}`,
      );
    }, 180_000);
  },
);
