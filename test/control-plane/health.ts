// Readiness checks: etcd /health, kube-apiserver /readyz (anonymous, which RBAC's bootstrap role
// system:public-info-viewer allows), the serving certificate, and the default namespace.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { sleep, type StartedProcess } from './processes.js';
import { layoutOf, type ControlPlaneState } from './state.js';

interface ProbeResult {
  status: number;
  body: string;
}

/** One GET with a short timeout and no keep-alive; rejects on transport errors. */
export function probe(
  url: string,
  options: { token?: string; ca?: Buffer; timeoutMs?: number } = {},
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
      // Verified with the server's own CA from the start (the file appears as the server starts).
      const caFile = servingCaFile(state);
      if (!fs.existsSync(caFile)) return `no ${caFile} yet`;
      const { status, body } = await probe(url, { ca: fs.readFileSync(caFile) });
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

/** kube-apiserver writes a self-signed serving cert followed by its CA to `<certdir>/apiserver.crt`. */
export function servingCaFile(state: ControlPlaneState): string {
  return path.join(layoutOf(state.stateDir).certDir, 'apiserver.crt');
}

/**
 * Clients trust the server's own CA file once a verifying TLS connection to the server succeeds with
 * it. There is no fallback to skipping verification: emulated pods verify the server as real ones do.
 */
export async function checkServingCertificate(
  state: ControlPlaneState,
): Promise<ControlPlaneState['tls']> {
  const caFile = servingCaFile(state);
  const { status } = await probe(`${state.server}/readyz`, { ca: fs.readFileSync(caFile) });
  if (status !== 200) throw new Error(`GET /readyz verified with ${caFile} answered ${status}`);
  return { caFile, note: `verified with ${caFile}` };
}

export async function waitForDefaultNamespace(admin: KubeConfig, timeoutMs: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await pollUntil('namespace "default"', timeoutMs, async () => {
    await core.readNamespace({ name: 'default' });
    return true;
  });
}
