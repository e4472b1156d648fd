// Credentials in the kubeconfig never reach an error, a log line, the health details or an Event:
// a malformed file is reported by reason and position only, and an exec credential plugin's stderr
// (run here as a real process) is redacted and capped.
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LeaderElectionModule, LeaderService } from '../../../lib/index.js';
import {
  LeaderElectionHealthIndicator,
  LeaderElectionHealthModule,
} from '../../../lib/health/index.js';
import { toLockError } from '../../../lib/kubernetes/errors.js';
import { RecordingLoggerService } from '../../support/recording-logger.js';
import { eventually } from '../../support/eventually.js';

const TOKEN = 'kct0ken8f3a9c1e5b2d4f6a8c0e2g4i6k8m0';
const PASSWORD = 'hunter2-basic-auth';
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj';
const KEY_DATA = Buffer.from(
  `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----\n`,
).toString('base64');
/** What must never appear: each secret, and the start of each (js-yaml cuts long lines). */
const SECRETS = [TOKEN, PASSWORD, KEY_BODY, KEY_DATA.slice(0, 24), TOKEN.slice(0, 12)];

function kubeconfig(users: string, extra = ''): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
users:
${users}${extra}`;
}

const USER = `- name: admin
  user:
    token: ${TOKEN}
    username: admin
    password: ${PASSWORD}
    client-key-data: ${KEY_DATA}
`;

const MALFORMED: [string, string][] = [
  [
    'a mis-indented users block',
    kubeconfig(`- name: admin
  user:
    token: ${TOKEN}
      password: ${PASSWORD}
    client-key-data: ${KEY_DATA}
`),
  ],
  [
    'a tab in the indentation',
    kubeconfig(`- name: admin
  user:
    username: admin
    password: ${PASSWORD}
\ttoken: ${TOKEN}
    client-key-data: ${KEY_DATA}
`),
  ],
  [
    'an unterminated quote',
    kubeconfig(`- name: admin
  user:
    token: "${TOKEN}
    password: ${PASSWORD}
    client-key-data: ${KEY_DATA}
`),
  ],
  ['a duplicated key', kubeconfig(USER.replace('    username: admin\n', `    token: again\n`))],
];

function expectNoSecret(what: string, text: string) {
  for (const secret of SECRETS) {
    if (text.includes(secret)) throw new Error(`${what} holds a secret (${secret}): ${text}`);
  }
}

describe('kubeconfig credentials', () => {
  let dir: string;
  const previous = process.env.KUBECONFIG;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkl-secrets-'));
  });

  afterEach(() => {
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function useKubeconfig(text: string) {
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, text);
    process.env.KUBECONFIG = file;
  }

  async function bootstrap(logger: RecordingLoggerService) {
    @Module({
      imports: [
        LeaderElectionModule.forRoot({
          leaseName: 'jobs',
          namespace: 'ns',
          identity: 'a',
          events: true,
          logger,
          leaseDuration: 2_000,
          renewDeadline: 1_500,
          retryPeriod: 500,
        }),
        LeaderElectionHealthModule,
      ],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.init();
    return app;
  }

  it.each(MALFORMED)(
    'a kubeconfig with %s fails at bootstrap by reason and position only',
    async (_, text) => {
      useKubeconfig(text);
      const logger = new RecordingLoggerService();
      let error: Error | undefined;
      try {
        await bootstrap(logger);
      } catch (e) {
        error = e as Error;
      }
      expectNoSecret('the error', `${error?.message}\n${error?.stack}`);
      expectNoSecret('the error cause', String((error as { cause?: unknown })?.cause));
      for (const line of logger.lines) expectNoSecret('a log line', line);
      expect(error?.message).toMatch(
        /"kubeConfig": could not load the default kubeconfig .*: .+ at line \d+, column \d+$/,
      );
    },
  );

  // The file is valid and holds every credential (in a user the context does not use); the one in use
  // runs a plugin that prints them to stderr and fails.
  it('a failing exec credential plugin reaches logs and health redacted', async () => {
    const plugin = path.join(dir, 'credential-plugin.sh');
    fs.writeFileSync(
      plugin,
      `#!/bin/sh
echo "error: the login failed for token ${TOKEN}" >&2
echo "password: ${PASSWORD}" >&2
echo "Authorization: Bearer ${TOKEN}" >&2
echo "-----BEGIN PRIVATE KEY-----" >&2
echo "${KEY_BODY}" >&2
echo "-----END PRIVATE KEY-----" >&2
echo "${TOKEN}" >&2
exit 1
`,
      { mode: 0o755 },
    );
    useKubeconfig(
      kubeconfig(`- name: admin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${plugin}
      interactiveMode: Never
- name: other
  user:
    token: ${TOKEN}
    username: admin
    password: ${PASSWORD}
    client-key-data: ${KEY_DATA}
`),
    );
    const logger = new RecordingLoggerService();
    const app = await bootstrap(logger);
    try {
      await eventually(() => logger.lines.some((line) => line.includes('Error ')));
      expect(app.get(LeaderService).isLeader()).toBe(false);
      const health = app
        .get(LeaderElectionHealthIndicator)
        .isHealthy('leaderElection', { maxApiFailureDuration: 0 });
      const healthText = JSON.stringify(health);
      expect(healthText).toContain('lastError');
      expect(healthText).toContain('[redacted]');
      expectNoSecret('the health details', healthText);
    } finally {
      await app.close();
    }
    expect(logger.lines.some((line) => line.includes('[redacted]'))).toBe(true);
    for (const line of logger.lines) expectNoSecret('a log line', line);
  });

  it("a proxy's error page reaches the lock error redacted and capped", () => {
    const page = `<html><body><h1>502 Bad Gateway</h1><pre>Authorization: Bearer ${TOKEN}\r\n${'x'.repeat(5_000)}</pre></body></html>`;
    const error = toLockError(
      { code: 502, body: page },
      { verb: 'update', namespace: 'ns', name: 'jobs' },
    );
    expectNoSecret('the lock error', error.message);
    expect(error.message).toContain('502 Bad Gateway');
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message.length).toBeLessThan(500);
  });
});
