// `--only forward`: requests for a leader-only HTTP handler during rolling updates of three Nest apps
// (Express, in this process, on 127.0.0.2-4, fast timings), two ways of reaching the leader:
// - forward: `@LeaderOnly({ forward: true })`; the client sends each request once, to the replicas
//   in turn, as a Service would;
// - retry-503: plain `@LeaderOnly()`; the client, on a 503, sends again to the next replica, at most
//   once per replica (3 attempts), without a pause.
// Counted: requests, requests that failed in the end, attempts beyond the first, and requests that
// ran twice (never expected). Leadership moves with the rollout (the leader is replaced too).
import type { AddressInfo } from 'node:net';
import { Controller, HttpCode, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElectionModule, LeaderOnly, LeaderService } from '../../lib/index.js';
import type { BenchContext } from '../lib/context.js';
import { PROFILES } from '../lib/context.js';
import { sleep } from '../lib/stats.js';

export type ForwardVariant = 'forward' | 'retry-503';

export interface ForwardPlan {
  /** Rolling updates (of all three replicas) per variant. */
  readonly rollouts: number;
  /** Client loops sending at once; each waits `paceMs` between its requests. */
  readonly clients: number;
  readonly paceMs: number;
}

export interface ForwardRow {
  readonly variant: ForwardVariant;
  readonly rollouts: number;
  readonly requests: number;
  /** Requests whose last answer was not a 200 (after the client's retries, for retry-503). */
  readonly failed: number;
  /** The failed requests by their last status (-1: no answer). */
  readonly failedBy: Record<string, number>;
  /** Attempts beyond each request's first (retry-503 only). */
  readonly extraAttempts: number;
  /** Requests the handlers saw more than once (never expected). */
  readonly ranTwice: number;
  /** Handler runs on a replica that did not lead (never expected). */
  readonly ranOnFollower: number;
  readonly leaderChanges: number;
}

export interface ForwardResult {
  readonly plan: ForwardPlan;
  readonly rows: ForwardRow[];
}

const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** Handler runs of the current variant: request id, whether the replica led. */
const runs: { id: string; leading: boolean; identity: string }[] = [];

@Controller('work')
class ForwardedController {
  constructor(private readonly leader: LeaderService) {}

  @Post(':id')
  @HttpCode(200)
  @LeaderOnly({ forward: true })
  run(@Param('id') id: string) {
    runs.push({ id, leading: this.leader.isLeader(), identity: this.leader.identity });
    return { id };
  }
}

@Controller('work')
class PlainController {
  constructor(private readonly leader: LeaderService) {}

  @Post(':id')
  @HttpCode(200)
  @LeaderOnly()
  run(@Param('id') id: string) {
    runs.push({ id, leading: this.leader.isLeader(), identity: this.leader.identity });
    return { id };
  }
}

interface Replica {
  readonly name: string;
  readonly ip: string;
  readonly url: string;
  readonly app: INestApplication;
  readonly leader: LeaderService;
}

export async function forwardScenario(
  ctx: BenchContext,
  plan: ForwardPlan,
): Promise<ForwardResult> {
  const rows: ForwardRow[] = [];
  for (const variant of ['forward', 'retry-503'] as const) {
    rows.push(await runVariant(ctx, plan, variant));
  }
  return { plan, rows };
}

async function runVariant(
  ctx: BenchContext,
  plan: ForwardPlan,
  variant: ForwardVariant,
): Promise<ForwardRow> {
  runs.length = 0;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(ctx.kubeconfig);
  const lease = `forward-${variant}-${Date.now().toString(36)}`;
  let serial = 0;
  const start = async (ip: string): Promise<Replica> => {
    const name = `${variant}-${++serial}`;
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: lease,
          namespace: ctx.namespace,
          identity: name,
          kubeConfig,
          logger: false,
          leaseDuration: PROFILES.fast.leaseDuration,
          renewDeadline: PROFILES.fast.renewDeadline,
          retryPeriod: PROFILES.fast.retryPeriod,
          ...(variant === 'forward'
            ? { forwarding: { address: ip, allowedRanges: ['127.0.0.0/8'] } }
            : {}),
        }),
      ],
      controllers: [variant === 'forward' ? ForwardedController : PlainController],
    })
    class BenchModule {}
    const app = await NestFactory.create(BenchModule, { logger: false, rawBody: true });
    await app.listen(0, ip);
    const port = (app.getHttpServer().address() as AddressInfo).port;
    return { name, ip, url: `http://${ip}:${port}`, app, leader: app.get(LeaderService) };
  };

  const serving: Replica[] = [];
  for (const ip of ADDRESSES) serving.push(await start(ip));
  // One serving replica leads (a new Lease's creator leads one lease duration after creating it)
  // and every serving replica names it.
  const knowOneLeader = () => {
    const leader = serving.find((r) => r.leader.isLeader());
    return !!leader && serving.every((r) => r.leader.getLeader() === leader.name);
  };
  await until(knowOneLeader, 20_000);

  let requests = 0;
  let failed = 0;
  const failedBy: Record<string, number> = {};
  let extraAttempts = 0;
  let running = true;
  let next = 0;
  const inFlight = new Map<Replica, number>();
  const send = async (replica: Replica, id: string): Promise<number> => {
    inFlight.set(replica, (inFlight.get(replica) ?? 0) + 1);
    try {
      const answer = await fetch(`${replica.url}/work/${id}`, { method: 'POST' });
      await answer.arrayBuffer();
      return answer.status;
    } catch {
      return -1;
    } finally {
      inFlight.set(replica, inFlight.get(replica)! - 1);
    }
  };
  const client = async () => {
    while (running) {
      const id = `q${++requests}`;
      const first = next++;
      let status = await send(serving[first % serving.length], id);
      for (let attempt = 1; variant === 'retry-503' && status === 503 && attempt < 3; attempt++) {
        extraAttempts++;
        status = await send(serving[(first + attempt) % serving.length], id);
      }
      if (status !== 200) {
        failed++;
        failedBy[status] = (failedBy[status] ?? 0) + 1;
      }
      await sleep(plan.paceMs);
    }
  };
  const clients = Array.from({ length: plan.clients }, client);
  for (let rollout = 0; rollout < plan.rollouts; rollout++) {
    for (const old of [...serving]) {
      const fresh = await start(old.ip);
      serving.push(fresh);
      await until(knowOneLeader, 20_000);
      serving.splice(serving.indexOf(old), 1);
      await until(() => (inFlight.get(old) ?? 0) === 0, 20_000);
      await old.app.close();
      await until(knowOneLeader, 20_000);
    }
  }
  await sleep(500);
  running = false;
  await Promise.all(clients);
  for (const replica of serving) await replica.app.close();

  const seen = new Map<string, number>();
  for (const run of runs) seen.set(run.id, (seen.get(run.id) ?? 0) + 1);
  return {
    variant,
    rollouts: plan.rollouts,
    requests,
    failed,
    failedBy,
    extraAttempts,
    ranTwice: [...seen.values()].filter((n) => n > 1).length,
    ranOnFollower: runs.filter((run) => !run.leading).length,
    leaderChanges: new Set(runs.map((run) => run.identity)).size - 1,
  };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('forward scenario: condition not reached in time');
    await sleep(20);
  }
}
