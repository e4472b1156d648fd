// A kubeconfig without the API server's certificate authority: the TLS failure is named, with what to
// check, for client-node's transport (through the Lease lock) and for undici's `fetch failed` (the
// shape of client-node 2.x), against the real kube-apiserver on 127.0.0.1 and its own certificate.
import { KubeConfig } from '@kubernetes/client-node';
import { LockUnavailableError } from '../../lib/core/index.js';
import { toLockError } from '../../lib/kubernetes/errors.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { loadCluster } from '../support/cluster.js';

const TLS =
  /certificate.*: TLS with the API server failed \(check the kubeconfig's server address \(https:\/\/ to a port without TLS\?\) and its certificate-authority\)$/;

describe('an API server whose certificate the kubeconfig does not trust', () => {
  const cluster = loadCluster();

  it('is named as a TLS failure, through the Lease lock', async () => {
    const trusted = cluster.kubeConfigs.leaseUser;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'no-ca', server: cluster.server }],
      users: trusted.users,
      contexts: [{ name: 'no-ca', cluster: 'no-ca', user: trusted.users[0].name }],
      currentContext: 'no-ca',
    });
    const lock = new KubernetesLeaseLock({
      kubeConfig,
      namespace: cluster.namespace,
      name: 'tls-check',
      identity: 'a',
    });
    const error = await lock.get().then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error).toBeInstanceOf(LockUnavailableError);
    expect(error!.message).toMatch(TLS);
    expect(error!.message).not.toContain(trusted.users[0].token!);
  });

  it("is named as a TLS failure, from undici's cause", async () => {
    const thrown = await fetch(`${cluster.server}/version`).then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = toLockError(thrown, { verb: 'get', namespace: 'x', name: 'y' });
    expect(error.message).toMatch(TLS);
  });
});
