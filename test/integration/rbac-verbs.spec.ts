// The shipped Role names the Lease (`resourceNames`) for get, create, update and watch. For each verb:
// the request that needs it works by name, and a Role without it gives the error (or the fallback)
// the README describes. Each case is a ServiceAccount with its own Role, as a pod would have, and a
// token from the TokenRequest API. An election spread over shares works with a Role that names each
// of its Leases (as sample/k8s/rbac.yaml does for the sample's `reports` election).
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../lib/core/index.js';
import { spreadLeaseNames } from '../../lib/core/spread/shares.js';
import { SpreadElector } from '../../lib/core/spread/spread-elector.js';
import { KubernetesLeaseLock } from '../../lib/kubernetes/index.js';
import { MEMBERS_ANNOTATION } from '../../lib/kubernetes/lease-annotations.js';
import { waitForLeaseAccess } from '../control-plane/rbac.js';
import { loadCluster, uniqueName, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { serviceAccountKubeConfig } from '../support/service-account.js';

const FAST = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const ALL_VERBS = ['get', 'create', 'update', 'watch'] as const;

describe('RBAC by name: each verb of the Lease rule', () => {
  let cluster: Cluster;
  let namespace: string;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    cluster = loadCluster();
    namespace = await cluster.uniqueNamespace('rbac');
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
  });

  /** A ServiceAccount whose Role grants `verbs` on the Lease `lease` (or Leases) only; its KubeConfig. */
  async function serviceAccount(
    lease: string | readonly string[],
    verbs: readonly string[],
  ): Promise<KubeConfig> {
    const leases = typeof lease === 'string' ? [lease] : [...lease];
    const kubeConfig = await serviceAccountKubeConfig(cluster, namespace, [
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: leases,
        verbs: [...verbs],
      },
    ]);
    // Effective once a GET of the Lease is no longer 403 (only when the Role grants get).
    if (verbs.includes('get')) await waitForLeaseAccess(kubeConfig, namespace, 30_000, leases[0]);
    return kubeConfig;
  }

  function candidate(kubeConfig: KubeConfig, lease: string, identity: string) {
    const messages: string[] = [];
    const elector = new LeaderElector({
      lock: new KubernetesLeaseLock({ kubeConfig, namespace, name: lease, identity }),
      ...FAST,
      logger: {
        log: () => undefined,
        warn: (m) => messages.push(m),
        error: (m) => messages.push(m),
      },
    });
    electors.push(elector);
    elector.start();
    return { elector, messages };
  }

  const createLease = (name: string) =>
    cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace,
      body: { metadata: { name }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } },
    });

  it('leads with get, create, update and watch on its Lease by name (the Lease created by PUT)', async () => {
    const lease = uniqueName('all');
    const { elector, messages } = candidate(await serviceAccount(lease, ALL_VERBS), lease, 'a');
    await elector.waitForLeadership();
    expect(messages).toEqual([]);
  });

  it.each([
    ['get', 'reads the Lease before anything else'],
    ['create', 'creates the missing Lease (a PUT to its name, checked as create)'],
    [
      'update',
      'writes every acquisition and renew (the PUT that creates is checked as update first)',
    ],
  ])('never leads without %s: it %s, and the error names the verb', async (missing) => {
    const lease = uniqueName(`no-${missing}`);
    const verbs = ALL_VERBS.filter((verb) => verb !== missing);
    const { elector, messages } = candidate(await serviceAccount(lease, verbs), lease, 'a');
    await eventually(() => messages.length > 0, 20_000, 'the denial reported');
    expect(messages[0]).toMatch(
      new RegExp(
        `Forbidden: user "system:serviceaccount:${namespace}:[^"]+" may not "${missing}" leases`,
      ),
    );
    expect(elector.isLeader()).toBe(false);
  });

  it('leads without create once the Lease exists (only the first replica ever creates it)', async () => {
    const lease = uniqueName('no-create-existing');
    await createLease(lease);
    const verbs = ALL_VERBS.filter((verb) => verb !== 'create');
    const { elector, messages } = candidate(await serviceAccount(lease, verbs), lease, 'a');
    await elector.waitForLeadership();
    expect(messages).toEqual([]);
  });

  it('works without watch by reading the Lease every retryPeriod, and says so', async () => {
    const lease = uniqueName('no-watch');
    const verbs = ALL_VERBS.filter((verb) => verb !== 'watch');
    const leader = candidate(await serviceAccount(lease, ALL_VERBS), lease, 'leader');
    await leader.elector.waitForLeadership();
    const follower = candidate(await serviceAccount(lease, verbs), lease, 'follower');
    await eventually(() => follower.messages.length > 0, 20_000, 'the denied watch reported');
    expect(follower.messages[0]).toMatch(/may not "watch" leases/);
    // The leader stops and releases: without a watch the follower sees it at its next read.
    await leader.elector.stop();
    await follower.elector.waitForLeadership();
  });

  it('leads every share of a spread election with a Role that names each of its Leases', async () => {
    const lease = uniqueName('spread');
    // <lease>-members, <lease>-share-0 to <lease>-share-2.
    const names = spreadLeaseNames('leaseName', lease, 3);
    const kubeConfig = await serviceAccount(names, ALL_VERBS);
    const messages: string[] = [];
    const spread = new SpreadElector({
      ...FAST,
      leaseName: lease,
      shares: 3,
      lockFor: (name) => new KubernetesLeaseLock({ kubeConfig, namespace, name, identity: 'a' }),
      logger: {
        log: () => undefined,
        warn: (m) => messages.push(m),
        error: (m) => messages.push(m),
      },
    });
    spread.start();
    try {
      await eventually(() => spread.ledShares().length === 3, 20_000, 'every share led');
      const members = await cluster.kubeConfigs.admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: `${lease}-members`, namespace });
      // Each identity's entry, and under "" (never an identity) the entries' ttl and share counts.
      const entries = JSON.parse(members.metadata!.annotations![MEMBERS_ANNOTATION]!);
      expect(Object.keys(entries).sort()).toEqual(['', 'a']);
      expect(messages).toEqual([]);
    } finally {
      await spread.stop();
    }
  });
});
