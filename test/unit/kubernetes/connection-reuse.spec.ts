// The kept connection pool of a Lease lock is keyed by the request's TLS settings: the same settings
// reuse the pool, a changed CA, client certificate, key or server name opens a new one. No network:
// the agents and dispatchers are never used to connect.
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { jest } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConnectionReuse } from '../../../lib/kubernetes/connection-reuse.js';

const pem = (label: string, body: string) =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

const TLS: AgentOptions = {
  ca: pem('CERTIFICATE', 'Q0EtMQ=='),
  cert: pem('CERTIFICATE', 'Q0xJRU5ULTE='),
  key: pem('PRIVATE KEY', 'U0VDUkVULUtFWS1NQVRFUklBTC0x'),
  servername: 'kubernetes.default.svc',
  rejectUnauthorized: true,
};

const CHANGES: [string, AgentOptions][] = [
  ['another CA', { ca: pem('CERTIFICATE', 'Q0EtMg==') }],
  ['a second CA added', { ca: [TLS.ca as string, pem('CERTIFICATE', 'Q0EtMg==')] }],
  ['a rotated client certificate', { cert: pem('CERTIFICATE', 'Q0xJRU5ULTI=') }],
  ['a rotated client key', { key: pem('PRIVATE KEY', 'U0VDUkVULUtFWS1NQVRFUklBTC0y') }],
  ['another server name', { servername: 'api.example.com' }],
  ['no server name', { servername: undefined }],
  ['verification off', { rejectUnauthorized: false }],
  ['a PKCS#12 bundle instead of cert and key', { cert: undefined, key: undefined, pfx: 'p12' }],
  ['a key passphrase', { passphrase: 'hunter2' }],
];

/** The key of the kept pool (private: read to check what it is made of). */
function keptKey(reuse: ConnectionReuse): string | undefined {
  const kept = reuse as unknown as {
    agent?: { key: string };
    dispatcher?: { key: string };
  };
  return kept.agent?.key ?? kept.dispatcher?.key;
}

describe('ConnectionReuse, client-node 1.x (a new https.Agent per request)', () => {
  const unusedKubeConfig = {} as KubeConfig;

  /** One request: client-node's fresh agent for `options`; returns the agent the request uses. */
  async function request(reuse: ConnectionReuse, options: AgentOptions): Promise<unknown> {
    let used: unknown = new HttpsAgent(options);
    await reuse.apply({ getAgent: () => used, setAgent: (agent) => (used = agent) });
    return used;
  }

  it('the same TLS settings reuse one keep-alive agent', async () => {
    const reuse = new ConnectionReuse(unusedKubeConfig);
    const first = await request(reuse, { ...TLS });
    const second = await request(reuse, { ...TLS });
    expect(second).toBe(first);
    expect(first).toBeInstanceOf(HttpsAgent);
    expect((first as HttpsAgent & { keepAlive: boolean }).keepAlive).toBe(true);
    expect((first as HttpsAgent & { options: AgentOptions }).options).toMatchObject(TLS);
    reuse.reset();
  });

  it.each(CHANGES)('%s opens a new agent and closes the old one', async (_name, change) => {
    const reuse = new ConnectionReuse(unusedKubeConfig);
    const before = (await request(reuse, { ...TLS })) as HttpsAgent;
    const keyBefore = keptKey(reuse);
    const destroy = jest.spyOn(before, 'destroy');
    const after = await request(reuse, { ...TLS, ...change });
    expect(after).not.toBe(before);
    expect(keptKey(reuse)).not.toBe(keyBefore);
    expect(destroy).toHaveBeenCalled();
    expect(await request(reuse, { ...TLS, ...change })).toBe(after);
    reuse.reset();
  });

  it('settings that are not about TLS do not matter', async () => {
    const reuse = new ConnectionReuse(unusedKubeConfig);
    const first = await request(reuse, { ...TLS, timeout: 1000 });
    expect(await request(reuse, { ...TLS, timeout: 5000, maxSockets: 1 })).toBe(first);
    reuse.reset();
  });

  it('the key is a SHA-256 digest: it holds no key, certificate or passphrase', async () => {
    const reuse = new ConnectionReuse(unusedKubeConfig);
    await request(reuse, { ...TLS, passphrase: 'hunter2' });
    const key = keptKey(reuse)!;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    for (const secret of ['U0VDUkVULUtFWS1NQVRFUklBTC0x', 'PRIVATE KEY', 'hunter2', 'Q0xJRU5U']) {
      expect(key).not.toContain(secret);
    }
    reuse.reset();
  });

  it('leaves an agent of the caller alone: keep-alive already, or a proxy agent', async () => {
    class ProxyAgent extends HttpsAgent {}
    for (const agent of [new HttpsAgent({ ...TLS, keepAlive: true }), new ProxyAgent({ ...TLS })]) {
      const reuse = new ConnectionReuse(unusedKubeConfig);
      const setAgent = jest.fn();
      await reuse.apply({ getAgent: () => agent, setAgent });
      expect(setAgent).not.toHaveBeenCalled();
      expect(keptKey(reuse)).toBeUndefined();
      agent.destroy();
    }
  });

  it('reset() closes the agent; the next request opens a new one', async () => {
    const reuse = new ConnectionReuse(unusedKubeConfig);
    const before = (await request(reuse, { ...TLS })) as HttpsAgent;
    const destroy = jest.spyOn(before, 'destroy');
    reuse.reset();
    expect(destroy).toHaveBeenCalled();
    expect(await request(reuse, { ...TLS })).not.toBe(before);
    reuse.reset();
  });
});

describe('ConnectionReuse, client-node 2.x (a new undici dispatcher per request)', () => {
  /** A KubeConfig whose TLS settings are `current.tls` at each request (a rotating certificate). */
  function kubeConfig(current: { tls: AgentOptions }): KubeConfig {
    return {
      applyToHTTPSOptions: async (options: AgentOptions) => {
        Object.assign(options, current.tls);
      },
    } as unknown as KubeConfig;
  }

  const dispatcher = (name: string) => ({ name, close: jest.fn(async () => undefined) });

  /** One request with a fresh dispatcher; returns it and the dispatcher the request uses. */
  async function request(reuse: ConnectionReuse, name: string) {
    const fresh = dispatcher(name);
    let used: unknown = fresh;
    await reuse.apply({ getDispatcher: () => used, setDispatcher: (d) => (used = d) });
    return { fresh, used };
  }

  it('keeps the first dispatcher and closes the fresh ones while TLS settings stay the same', async () => {
    const reuse = new ConnectionReuse(kubeConfig({ tls: TLS }));
    const first = await request(reuse, 'first');
    expect(first.used).toBe(first.fresh);
    const second = await request(reuse, 'second');
    expect(second.used).toBe(first.fresh);
    expect(second.fresh.close).toHaveBeenCalled();
    expect(first.fresh.close).not.toHaveBeenCalled();
    expect(keptKey(reuse)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(CHANGES)('%s: the new dispatcher is kept, the old one closed', async (_name, change) => {
    const current = { tls: TLS };
    const reuse = new ConnectionReuse(kubeConfig(current));
    const first = await request(reuse, 'first');
    current.tls = { ...TLS, ...change };
    const second = await request(reuse, 'second');
    expect(second.used).toBe(second.fresh);
    expect(first.fresh.close).toHaveBeenCalled();
    expect(second.fresh.close).not.toHaveBeenCalled();
    expect((await request(reuse, 'third')).used).toBe(second.fresh);
  });

  it('does nothing when the TLS settings cannot be read (the request fails on its own)', async () => {
    const reuse = new ConnectionReuse({
      applyToHTTPSOptions: async () => {
        throw new Error('exec plugin failed');
      },
    } as unknown as KubeConfig);
    const { fresh, used } = await request(reuse, 'only');
    expect(used).toBe(fresh);
    expect(fresh.close).not.toHaveBeenCalled();
    expect(keptKey(reuse)).toBeUndefined();
  });

  it('reset() closes the kept dispatcher', async () => {
    const reuse = new ConnectionReuse(kubeConfig({ tls: TLS }));
    const first = await request(reuse, 'first');
    reuse.reset();
    expect(first.fresh.close).toHaveBeenCalled();
    const next = await request(reuse, 'next');
    expect(next.used).toBe(next.fresh);
  });
});
