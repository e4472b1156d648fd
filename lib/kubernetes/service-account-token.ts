import { readFileSync } from 'node:fs';
import { KubeConfig, type User } from '@kubernetes/client-node';

/**
 * The auth provider of the copied user. Its config must not have a `tokenFile` key: client-node's own
 * token-file authenticator takes any user that has one, before custom authenticators.
 */
const PROVIDER = 'nestjs-kube-leader:token-file';

/** How long a token read from the file is used before the file is read again (client-go: 1 min). */
export const TOKEN_FILE_MAX_AGE_MS = 60_000;

/**
 * A token file (the pod's projected service-account token), read by this library rather than by
 * client-node. The kubelet replaces the file's content well before the old token expires, so reading
 * it again every minute is enough, as client-go does; but when the old token stops being valid early
 * (its bound object was deleted), a minute of 401s is longer than a renew deadline. So a 401 reads the
 * file at once ({@link refresh}), and a request that failed with the old token is worth one retry.
 */
export class ServiceAccountToken {
  private token: string | undefined;
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token to send: the file's content, read again when older than a minute. */
  current(): string {
    if (this.token === undefined || this.now() - this.readAt > TOKEN_FILE_MAX_AGE_MS) this.read();
    return this.token!;
  }

  /** The token last read, without reading (undefined before the first request). */
  get lastRead(): string | undefined {
    return this.token;
  }

  /**
   * Reads the file now. True if it holds another token than `used`, the one a request that was
   * answered 401 went out with: that request may be retried once.
   */
  refresh(used: string | undefined): boolean {
    try {
      this.read();
    } catch {
      return false; // the next request reports it
    }
    return used !== undefined && this.token !== used;
  }

  private read(): void {
    // The kubelet swaps the file atomically (a symlink), so a read sees one whole token.
    this.token = readFileSync(this.path, 'utf8').trim();
    this.readAt = this.now();
  }
}

/** A KubeConfig, and the token file its current user reads, if it reads one. */
export interface TokenFileAuth {
  readonly kubeConfig: KubeConfig;
  readonly token?: ServiceAccountToken;
}

/**
 * For a KubeConfig whose current user authenticates with a token file (client-node's in-cluster
 * configuration), a copy whose token comes from a {@link ServiceAccountToken}; any other KubeConfig
 * is returned as it is. The copy uses client-node's own extension point (a custom authenticator).
 */
export function withTokenFileAuth(kubeConfig: KubeConfig): TokenFileAuth {
  const user = kubeConfig.getCurrentUser();
  const path = tokenFileOf(user);
  if (!user || path === undefined) return { kubeConfig };
  const token = new ServiceAccountToken(path);
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kubeConfig.clusters,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
    users: kubeConfig.users.map((candidate) =>
      candidate === user
        ? { ...user, authProvider: { name: PROVIDER, config: { path } } }
        : candidate,
    ),
  });
  copy.addAuthenticator({
    isAuthProvider: (candidate: User) => candidate.authProvider?.name === PROVIDER,
    applyAuthentication: async (_user: User, options: { headers?: unknown }) => {
      const headers = (options.headers ?? {}) as Record<string, string>;
      headers.Authorization = `Bearer ${token.current()}`;
      options.headers = headers;
    },
  });
  return { kubeConfig: copy, token };
}

/** client-node's in-cluster user: `authProvider: { name: 'tokenFile', config: { tokenFile } }`. */
function tokenFileOf(user: User | null): string | undefined {
  const provider = user?.authProvider as
    { name?: string; config?: { tokenFile?: unknown } } | undefined;
  const path = provider?.config?.tokenFile;
  return provider?.name === 'tokenFile' && typeof path === 'string' && path ? path : undefined;
}
