import { createHash } from 'node:crypto';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ConnectionContext } from './client-node-compat.js';

interface Closable {
  close(): Promise<void> | void;
}

/** TLS settings that decide which server and client identity a connection stands for. */
const TLS_FIELDS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'servername',
  'rejectUnauthorized',
] as const;

/**
 * Keeps one connection pool per lock across requests. client-node builds a new connection pool,
 * hence a new TCP + TLS connection, for every request: 1.x a new `https.Agent`, 2.x a new undici
 * `Agent`. Here a renew costs one round trip on an open connection instead.
 *
 * The pool is keyed by the request's TLS settings (CA, client certificate and key, server name,
 * ...). When they change, e.g. a rotated client certificate from a file or an exec plugin, the old
 * pool is closed and the next request opens a new one; {@link reset} does the same after a 401.
 */
export class ConnectionReuse {
  private agent: { key: string; agent: HttpsAgent } | undefined;
  private dispatcher: { key: string; dispatcher: Closable } | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  /** Puts the kept connection pool on the request context (called before every request). */
  async apply(context: ConnectionContext): Promise<void> {
    const agent = context.getAgent?.();
    // client-node 1.x: a plain per-request https.Agent (proxy agents are left alone).
    if (
      agent instanceof HttpsAgent &&
      agent.constructor === HttpsAgent &&
      !(agent as HttpsAgent & { keepAlive?: boolean }).keepAlive &&
      context.setAgent
    ) {
      const options = (agent as HttpsAgent & { options: AgentOptions }).options;
      const key = tlsKey(options);
      if (this.agent?.key !== key) {
        this.agent?.agent.destroy();
        this.agent = { key, agent: new HttpsAgent({ ...options, keepAlive: true, maxSockets: 4 }) };
      }
      context.setAgent(this.agent.agent);
      return;
    }
    // client-node 2.x: a per-request undici dispatcher, equivalent to the previous one when the
    // TLS settings are the same.
    const fresh = context.getDispatcher?.();
    if (!isClosable(fresh) || !context.setDispatcher) return;
    let key: string;
    try {
      const options: AgentOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(options);
      key = tlsKey(options);
    } catch {
      // The request fails on its own (client-node applied the same settings before us).
      return;
    }
    if (this.dispatcher?.key === key) {
      context.setDispatcher(this.dispatcher.dispatcher);
      closeQuietly(fresh);
      return;
    }
    if (this.dispatcher) closeQuietly(this.dispatcher.dispatcher);
    this.dispatcher = { key, dispatcher: fresh };
  }

  /** Closes the kept connections; the next request opens new ones. */
  reset(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
    if (this.dispatcher) closeQuietly(this.dispatcher.dispatcher);
    this.dispatcher = undefined;
  }
}

function isClosable(value: unknown): value is Closable {
  return typeof (value as Closable | undefined)?.close === 'function';
}

function closeQuietly(dispatcher: Closable): void {
  try {
    void Promise.resolve(dispatcher.close()).catch(() => undefined);
  } catch {
    // Already closed.
  }
}

function tlsKey(options: AgentOptions): string {
  const hash = createHash('sha256');
  for (const field of TLS_FIELDS) {
    const value = options[field];
    hash.update(`${field}=`);
    for (const part of Array.isArray(value) ? value : [value]) {
      if (part === undefined) hash.update('-');
      else if (typeof part === 'string' || Buffer.isBuffer(part)) hash.update(part);
      else hash.update(JSON.stringify(part));
      hash.update(';');
    }
  }
  return hash.digest('hex');
}
