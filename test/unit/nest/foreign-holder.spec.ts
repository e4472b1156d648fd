// A Lease's holderIdentity is written by whoever may update the Lease: it reaches headers, 503
// bodies and log lines only escaped and capped. Our own identity is checked at start-up.
import 'reflect-metadata';
import { Controller, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  LeadershipLostError,
} from '../../../lib/index.js';
import { LeaderElector } from '../../../lib/core/index.js';
import { KubernetesLeaseLock } from '../../../lib/kubernetes/index.js';
import { InMemoryLeaseLock, InMemoryLeaseStore } from '../../../lib/testing/index.js';
import { defaultIdentity } from '../../../lib/kubernetes/index.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { ElectionFixture } from '../support/election-fixture.js';
import { eventually } from '../../support/eventually.js';

/** CR/LF (header splitting, a forged log line), an ANSI escape, non-Latin-1, and far too long. */
const HOSTILE = `evil\r\nSet-Cookie: pwned=1\n[Nest] 1 - LOG forged line \u001b[31mred\u202e ホルダー ${'x'.repeat(400)}`;

/** No line breaks, escape or bidi characters, and at most 253 characters of the holder (plus a marker). */
function expectSafe(text: string) {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  expect(text).not.toMatch(/[\r\n\u001b\u202e]/);
  expect(text).not.toContain('x'.repeat(254));
}

describe('a foreign holder identity', () => {
  it('reaches the log and the lost-leadership reason escaped and capped', async () => {
    const f = new ElectionFixture();
    const a = await f.started('a');
    const signal = a.elector.leadershipSignal();
    f.store.adminWrite({ holderIdentity: HOSTILE, leaseDurationSeconds: 15 });
    await f.clock.advance(100);
    expect(a.elector.isLeader()).toBe(false);
    const stopped = a.logger.at('warn').filter((line) => line.includes('stopped leading'));
    expect(stopped).toHaveLength(1);
    expectSafe(stopped[0]);
    expect(stopped[0]).toContain('evil\\r\\nSet-Cookie: pwned=1\\n[Nest]');
    expect(signal.reason).toBeInstanceOf(LeadershipLostError);
    expectSafe((signal.reason as Error).message);
    for (const { message } of a.logger.lines) expectSafe(message);
    await f.stopAll();
  });

  describe('on a follower over HTTP', () => {
    @Controller('work')
    class WorkController {
      @Post()
      @LeaderOnly()
      run() {
        return { ran: true };
      }
    }
    @Injectable()
    class Jobs {
      @LeaderOnly()
      tick() {
        return 1;
      }
    }

    let app: INestApplication | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('answers 503 with X-Leader percent-encoded and the body escaped and capped', async () => {
      const store = new InMemoryLeaseStore();
      const logger = new RecordingLoggerService();
      store.adminWrite({
        holderIdentity: HOSTILE,
        leaseDurationSeconds: 60,
        renewTime: new Date(),
        acquireTime: new Date(),
      });
      @Module({
        imports: [
          LeaderElectionModule.forRoot({
            leaseName: 'jobs',
            lock: new InMemoryLeaseLock(store, 'b'),
            logger,
            leaseDuration: 2_000,
            renewDeadline: 1_500,
            retryPeriod: 500,
          }),
        ],
        controllers: [WorkController],
        providers: [Jobs],
      })
      class AppModule {}
      app = await NestFactory.create(AppModule, { logger, abortOnError: false });
      await app.listen(0, '127.0.0.1');
      const leader = app.get(LeaderService);
      await eventually(() => leader.getLeader() === HOSTILE);

      const refused = await fetch(`${await app.getUrl()}/work`, { method: 'POST' });
      expect(refused.status).toBe(503);
      const header = refused.headers.get('x-leader')!;
      expect(header).toMatch(/^[\x20-\x7e]+$/);
      expect(header.startsWith('evil%0D%0ASet-Cookie: pwned=1%0A')).toBe(true);
      expect(refused.headers.get('set-cookie')).toBeNull();
      const body = (await refused.json()) as { leader: string };
      expectSafe(body.leader);
      expect(body.leader.startsWith('evil\\r\\nSet-Cookie')).toBe(true);

      expect(app.get(Jobs).tick()).toBeUndefined();
      const skipped = logger.lines.filter((line) => line.includes('Skipped Jobs.tick'));
      expect(skipped).toHaveLength(1);
      // It names the election, the Lease and the (escaped) leader.
      expect(skipped[0]).toMatch(
        /Skipped Jobs\.tick: this instance does not lead election "default" \(in-memory lease [^,]+, leader: evil\\r\\nSet-Cookie/,
      );
      for (const line of logger.lines) expectSafe(line);
    });
  });
});

describe('our own identity', () => {
  const invalid: [string, string][] = [
    ['a line break', 'pod-1\nforged'],
    ['a non-ASCII character', 'pod-ü'],
    ['more than 253 characters', 'p'.repeat(254)],
  ];

  it.each(invalid)('is refused by the engine with %s', (_, identity) => {
    expect(
      () => new LeaderElector({ lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), identity) }),
    ).toThrow(
      /"identity": must be printable ASCII \(no control characters\), at most 253 characters/,
    );
  });

  it.each(invalid)('is refused by KubernetesLeaseLock with %s', (_, identity) => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    expect(
      () => new KubernetesLeaseLock({ kubeConfig, namespace: 'ns', name: 'jobs', identity }),
    ).toThrow(/"identity": must be printable ASCII/);
  });

  it.each(invalid)('fails the module at bootstrap with %s', async (_, identity) => {
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: 'jobs',
          identity,
          kubeConfig: undefined,
          namespace: 'ns',
          logger: false,
        }),
      ],
    })
    class AppModule {}
    let error: unknown;
    try {
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      await app.init().finally(() => app.close().catch(() => undefined));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(
      /"identity": must be printable ASCII \(no control characters\), at most 253 characters/,
    );
  });

  it('is derived from POD_NAME within the rule, however long or odd the name', () => {
    const identity = defaultIdentity({ POD_NAME: `pod-ü\n${'q'.repeat(300)}` });
    expect(identity).toMatch(/^pod-__q+_[0-9a-f]{8}$/);
    expect(identity).toHaveLength(253);
    expect(
      new LeaderElector({ lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), identity) })
        .identity,
    ).toBe(identity);
  });

  it('accepts 253 printable ASCII characters', () => {
    const identity = `${'p'.repeat(250)} ~!`;
    expect(
      new LeaderElector({ lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), identity) })
        .identity,
    ).toBe(identity);
  });
});
