// Readiness checks: etcd /health, kube-apiserver /readyz (anonymous, which RBAC's bootstrap role
// system:public-info-viewer allows), the serving certificate, and the default namespace.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { sleep, type StartedProcess } from './processes.js';
import type { ControlPlaneState } from './state.js';

interface ProbeResult {
  status: number;
  body: string;
}

/** One GET with a short timeout and no keep-alive; rejects on transport errors. */
export function probe(
  url: string,
  options: { token?: string; ca?: Buffer; insecure?: boolean; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = options.token
      ? { Authorization: `Bearer ${options.token}` }
      : {};
    const request =
      target.protocol === 'https:'
        ? https.request(target, {
            headers,
            agent: false,
            ca: options.ca,
            rejectUnauthorized: !options.insecure,
          })
        : http.request(target, { headers, agent: false });
    request.setTimeout(options.timeoutMs ?? 2_000, () =>
      request.destroy(new Error(`timeout: ${url}`)),
    );
    request.once('error', reject);
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
    request.end();
  });
}

export async function pollUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<string | true>,
  child?: StartedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child?.exit) {
      const { code, signal } = child.exit;
      throw new Error(
        `the process exited (${signal ? `signal ${signal}` : `code ${code}`}) while waiting for ${what}`,
      );
    }
    try {
      const result = await check();
      if (result === true) return;
      last = result;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${last})`);
}

export function waitForEtcd(
  state: ControlPlaneState,
  child: StartedProcess | undefined,
  timeoutMs: number,
) {
  const url = `http://127.0.0.1:${state.ports.etcdClient}/health`;
  return pollUntil(
    url,
    timeoutMs,
    async () => {
      const { status, body } = await probe(url);
      return status === 200 && body.includes('"true"') ? true : `HTTP ${status} ${body.trim()}`;
    },
    child,
  );
}

export function waitForReadyz(
  state: ControlPlaneState,
  child: StartedProcess | undefined,
  timeoutMs: number,
) {
  const url = `${state.server}/readyz`;
  return pollUntil(
    url,
    timeoutMs,
    async () => {
      const { status, body } = await probe(url, { insecure: true });
      return status === 200
        ? true
        : `HTTP ${status} ${body
            .trim()
            .split('\n')
            .filter((l) => l.includes('failed'))
            .join('; ')}`;
    },
    child,
  );
}

/**
 * kube-apiserver writes a self-signed serving cert followed by its CA to `<certdir>/apiserver.crt`; trust
 * it if a verifying TLS connection to 127.0.0.1 succeeds with it, else fall back to skipping verification.
 */
export async function checkServingCertificate(
  state: ControlPlaneState,
  certDir: string,
): Promise<ControlPlaneState['tls']> {
  const caFile = path.join(certDir, 'apiserver.crt');
  try {
    const ca = fs.readFileSync(caFile);
    const { status } = await probe(`${state.server}/readyz`, { ca });
    if (status === 200)
      return { caFile, insecureSkipTLSVerify: false, note: `verified with ${caFile}` };
    return {
      caFile: null,
      insecureSkipTLSVerify: true,
      note: `verifying GET /readyz answered ${status}`,
    };
  } catch (error) {
    return {
      caFile: null,
      insecureSkipTLSVerify: true,
      note: `cannot verify with ${caFile}: ${(error as Error).message}`,
    };
  }
}

export async function waitForDefaultNamespace(admin: KubeConfig, timeoutMs: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await pollUntil('namespace "default"', timeoutMs, async () => {
    await core.readNamespace({ name: 'default' });
    return true;
  });
}
