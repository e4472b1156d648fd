// A request that never reaches the API server says why: the refused address, the name that does not
// resolve, the TLS failure, from the cause that client-node got (1.x: node-fetch; 2.x: undici's
// `fetch failed` with the socket error as its cause). Real sockets on 127.0.0.1, no mocked HTTP:
// through the Lease lock with the client-node installed here, and through Node's own fetch (the
// undici that client-node 2.x uses) for the 2.x shape. Never the token.
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { LockUnavailableError } from '../../../lib/core/index.js';
import { toLockError } from '../../../lib/kubernetes/errors.js';
import { KubernetesLeaseLock } from '../../../lib/kubernetes/index.js';

const TOKEN = 'secret-token-0123456789abcdefghijklmnop';
const CONTEXT = { verb: 'get', namespace: 'apps', name: 'billing' } as const;

/** A port nothing listens on: bound by the system, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that answers in plain HTTP, whatever it is sent: what `https://` to an HTTP port meets. */
async function plainHttpServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    // As an HTTP server does: it reads the request (here a TLS ClientHello), then answers 400.
    socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function lockOn(server: string): KubernetesLeaseLock {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'dev', server }],
    users: [{ name: 'dev', token: TOKEN }],
    contexts: [{ name: 'dev', cluster: 'dev', user: 'dev' }],
    currentContext: 'dev',
  });
  return new KubernetesLeaseLock({ kubeConfig, namespace: 'apps', name: 'billing', identity: 'a' });
}

async function lockFailure(server: string): Promise<Error> {
  const error = await lockOn(server)
    .get()
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  expect(error).toBeInstanceOf(LockUnavailableError);
  const message = (error as Error).message;
  expect(message).not.toContain(TOKEN);
  expect(message).not.toContain('[redacted]');
  return error as Error;
}

async function fetchFailure(url: string): Promise<Error> {
  const error = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  // undici's `fetch failed`, the cause inside (a TypeError of the runtime's realm, not the test's).
  expect([(error as Error).name, (error as Error).message]).toEqual(['TypeError', 'fetch failed']);
  const mapped = toLockError(error, CONTEXT);
  expect(mapped).toBeInstanceOf(LockUnavailableError);
  expect(mapped.cause).toBe(error);
  expect(mapped.message).not.toContain(TOKEN);
  return mapped;
}

describe('a request that does not reach the API server', () => {
  it('to a closed port names the refused address and what to check', async () => {
    const port = await closedPort();
    const refused =
      `connect ECONNREFUSED 127.0.0.1:${port}: nothing accepts connections there ` +
      "(is the API server running, and is it the kubeconfig's server?)";
    expect((await lockFailure(`https://127.0.0.1:${port}`)).message).toBe(
      `get lease apps/billing: ${refused}`,
    );
    expect((await fetchFailure(`https://127.0.0.1:${port}/`)).message).toBe(
      `get lease apps/billing: ${refused}`,
    );
  });

  it('to a port that answers without TLS names the TLS failure', async () => {
    const server = await plainHttpServer();
    try {
      const tls =
        /wrong version number.*: TLS with the API server failed \(check the kubeconfig's server address \(https:\/\/ to a port without TLS\?\) and its certificate-authority\)$/;
      expect((await lockFailure(`https://127.0.0.1:${server.port}`)).message).toMatch(tls);
      expect((await fetchFailure(`https://127.0.0.1:${server.port}/`)).message).toMatch(tls);
    } finally {
      await server.close();
    }
  });

  it('to a host name that does not resolve names the name (DNS)', async () => {
    // `.invalid` never resolves (RFC 2606); without a resolver at all the lookup fails too.
    const dns =
      /getaddrinfo (ENOTFOUND|EAI_AGAIN) api\.nowhere\.invalid: the API server's host name does not resolve \(DNS\)$/;
    expect((await lockFailure('https://api.nowhere.invalid:6443')).message).toMatch(dns);
    expect((await fetchFailure('https://api.nowhere.invalid:6443/')).message).toMatch(dns);
  });
});
