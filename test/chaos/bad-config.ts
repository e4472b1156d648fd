// Bad configuration at start-up: each case must end in a clear message, never a hang or a silent
// crash loop. Invalid options make the app exit with an error naming the option; an unreachable or
// misconfigured cluster keeps the app up, not leading, with the reason logged.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../support/candidates.js';
import type { ReplicaEvent } from './checker.js';

export interface BadConfigCase {
  name: string;
  env: Record<string, string>;
  /** 'exit': the process must exit non-zero with `expect` in its output. 'stays-up': it must log `expect` and not lead. */
  outcome: 'exit' | 'stays-up';
  expect: RegExp;
}

export function badConfigCases(
  kubeconfig: string,
  namespace: string,
  workDir: string,
): BadConfigCase[] {
  const unreachable = path.join(workDir, 'unreachable.kubeconfig');
  fs.writeFileSync(
    unreachable,
    fs
      .readFileSync(kubeconfig, 'utf8')
      .replace(/server: "?https:\/\/127\.0\.0\.1:\d+"?/, 'server: "https://127.0.0.1:1"'),
  );
  const base = {
    KUBECONFIG: kubeconfig,
    NAMESPACE: namespace,
    LEASE: 'bad-config',
    IDENTITY: 'bad',
  };
  return [
    {
      name: 'invalid timings',
      env: { ...base, LEASE_DURATION_MS: '1000', RENEW_DEADLINE_MS: '2000' },
      outcome: 'exit',
      expect: /"leaseDuration": must be greater than renewDeadline/,
    },
    {
      name: 'invalid lease name',
      env: { ...base, LEASE: 'Not_A_Name' },
      outcome: 'exit',
      expect: /"leaseName": must be a DNS-1123 subdomain/,
    },
    {
      name: 'invalid namespace name',
      env: { ...base, NAMESPACE: 'Bad Namespace' },
      outcome: 'exit',
      expect: /"namespace": must be a DNS-1123 label/,
    },
    {
      name: 'unreachable server',
      env: { ...base, KUBECONFIG: unreachable },
      outcome: 'stays-up',
      expect: /ECONNREFUSED/,
    },
    {
      name: 'missing namespace',
      env: { ...base, NAMESPACE: `missing-${Date.now().toString(36)}` },
      outcome: 'stays-up',
      expect: /may not "get"|does not exist/,
    },
  ];
}

/** Runs one case; resolves with a description of what happened, rejects if the outcome is wrong. */
export async function runBadConfigCase(c: BadConfigCase, timeoutMs = 30_000): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', path.join(REPO_ROOT, 'test/chaos/replica.ts')],
    { cwd: REPO_ROOT, env: { ...process.env, ...c.env } },
  );
  const lines: string[] = [];
  let leading = false;
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    try {
      const event = JSON.parse(line) as ReplicaEvent;
      if (event.type === 'change' && event.isLeader) leading = true;
      if (event.message) lines.push(event.message); // unescaped, for matching
    } catch {
      // plain text
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const text = lines.join('\n');
      if (c.outcome === 'exit' && child.exitCode !== null) {
        if (child.exitCode !== 0 && c.expect.test(text))
          return `exited ${child.exitCode}: ${text.match(c.expect)![0]}`;
        throw new Error(
          `${c.name}: exited ${child.exitCode} without the expected message; output:\n${text}`,
        );
      }
      if (c.outcome === 'stays-up') {
        if (child.exitCode !== null)
          throw new Error(`${c.name}: exited ${child.exitCode}; output:\n${text}`);
        if (leading) throw new Error(`${c.name}: became leader`);
        if (c.expect.test(text)) return `up, not leading, logged: ${text.match(c.expect)![0]}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `${c.name}: no expected outcome within ${timeoutMs} ms; output:\n${lines.join('\n')}`,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}
