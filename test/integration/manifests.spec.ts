// The sample's manifests (sample/k8s/*.yaml) on a real kube-apiserver: every object passes the
// server's validation and admission (server-side dry run), the Deployment's pod template passes Pod
// Security "restricted" (and a template without runAsNonRoot does not), and the Role grants the
// app's own Leases (its election's and its spread `reports` election's) and nothing else.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1Role,
} from '@kubernetes/client-node';
import { spreadLeaseNames } from '../../lib/core/spread/shares.js';
import { REPORTS_SHARES, reportsLeaseName } from '../../sample/src/reports.js';
import { createNamespace } from '../control-plane/rbac.js';
import { loadCluster, uniqueName } from '../support/cluster.js';

const CLUSTER_SCOPED = ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFESTS_DIR = path.join(ROOT, 'sample', 'k8s');

interface Manifest {
  file: string;
  object: KubernetesObject;
}

function loadManifests(): Manifest[] {
  return fs
    .readdirSync(MANIFESTS_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      (loadAllYaml(fs.readFileSync(path.join(MANIFESTS_DIR, file), 'utf8')) as unknown[])
        .filter((object): object is KubernetesObject => object !== null && object !== undefined)
        .map((object) => ({ file, object })),
    );
}

function describeObject({ file, object }: Manifest): string {
  return `${file}: ${object.kind}/${object.metadata?.name}`;
}

/** A deep copy of `object` placed into `namespace` (the manifests carry none). */
function inNamespace<T extends KubernetesObject>(object: T, namespace: string): T {
  const copy = structuredClone(object);
  copy.metadata = { ...copy.metadata, namespace };
  return copy;
}

/** The server's message for a refused request (its Status), else the error's. */
function refusal(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      const status = JSON.parse(String(error.body)) as { message?: string };
      return `${error.code} ${status.message ?? String(error.body)}`;
    } catch {
      return `${error.code} ${String(error.body)}`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

function find<T extends KubernetesObject>(manifests: Manifest[], kind: string): T {
  const found = manifests.find(({ object }) => object.kind === kind);
  if (!found) throw new Error(`no ${kind} in ${MANIFESTS_DIR}`);
  return found.object as T;
}

/** A Pod as the Deployment's ReplicaSet would make it. */
function podFromTemplate(deployment: V1Deployment, namespace: string): V1Pod {
  const template = structuredClone(deployment.spec!.template);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, name: uniqueName('sample-app-pod'), namespace },
    spec: template.spec,
  };
}

describe('sample/k8s manifests on the API server', () => {
  let admin: KubeConfig;
  let objects: KubernetesObjectApi;
  let manifests: Manifest[];

  /** Creates the sample's ServiceAccount for real: the ServiceAccount admission plugin refuses
   * Pods whose service account does not exist, also in a dry run. */
  async function createServiceAccount(namespace: string): Promise<void> {
    const serviceAccount = find(manifests, 'ServiceAccount');
    await objects.create(inNamespace(serviceAccount, namespace));
  }

  beforeAll(() => {
    admin = loadCluster().kubeConfigs.admin;
    objects = KubernetesObjectApi.makeApiClient(admin);
    manifests = loadManifests();
  });

  it('has the objects a deployment needs', () => {
    expect(manifests.map(({ object }) => object.kind).sort()).toEqual(
      [
        'Deployment',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'Service',
        'ServiceAccount',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ].sort(),
    );
    for (const { object } of manifests) expect(object.metadata?.namespace).toBeUndefined();
  });

  it('passes validation and admission for every object (server-side dry run)', async () => {
    const namespace = uniqueName('manifests');
    // No Pod is made in a dry run, so the ServiceAccount need not exist (unlike below).
    await createNamespace(admin, namespace);

    const refused: string[] = [];
    for (const manifest of manifests) {
      try {
        if (CLUSTER_SCOPED.includes(manifest.object.kind!)) {
          // One object for every namespace the sample runs in (and for every test): applied, as
          // `kubectl apply` does, so that it may exist already.
          await objects.patch(
            manifest.object,
            undefined,
            'All',
            'nestjs-kube-leader-tests',
            true,
            PatchStrategy.ServerSideApply,
          );
          continue;
        }
        const answer = await objects.create(
          inNamespace(manifest.object, namespace),
          undefined,
          'All',
        );
        expect(answer.metadata?.namespace).toBe(namespace);
      } catch (error) {
        refused.push(`${describeObject(manifest)}: ${refusal(error)}`);
      }
    }
    expect(refused).toEqual([]);
  });

  describe('in a namespace that enforces Pod Security "restricted"', () => {
    let namespace: string;
    let deployment: V1Deployment;

    beforeAll(async () => {
      namespace = uniqueName('restricted');
      await admin.makeApiClient(CoreV1Api).createNamespace({
        body: {
          metadata: {
            name: namespace,
            labels: {
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'latest',
            },
          },
        },
      });
      await createServiceAccount(namespace);
      deployment = find<V1Deployment>(manifests, 'Deployment');
    });

    it("admits a Pod made from the Deployment's template", async () => {
      const pod = podFromTemplate(deployment, namespace);
      let answer: string;
      try {
        const created = await objects.create(pod, undefined, 'All');
        answer = `created ${created.metadata?.name}`;
      } catch (error) {
        answer = refusal(error);
      }
      expect(answer).toBe(`created ${pod.metadata?.name}`);
    });

    it('refuses the same Pod without runAsNonRoot (the check can fail)', async () => {
      const pod = podFromTemplate(deployment, namespace);
      delete pod.spec?.securityContext?.runAsNonRoot;
      let answer = 'created';
      try {
        await objects.create(pod, undefined, 'All');
      } catch (error) {
        answer = refusal(error);
      }
      expect(answer).toMatch(/^403 .*violates PodSecurity "restricted:latest".*runAsNonRoot/);
    });
  });

  describe("the Role bound to the app's service account", () => {
    let namespace: string;
    let user: string;
    let leaseName: string;
    /** The election's Lease, then the reports election's: members, share-0 to share-5. */
    let leaseNames: string[];

    async function allowed(
      verb: string,
      resource: { group: string; resource: string; name?: string },
    ): Promise<boolean> {
      const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
        body: {
          spec: { user, resourceAttributes: { namespace, verb, ...resource } },
        },
      });
      return review.status?.allowed === true;
    }
    const lease = (name?: string) => ({ group: 'coordination.k8s.io', resource: 'leases', name });

    beforeAll(async () => {
      namespace = uniqueName('manifests-rbac');
      await createNamespace(admin, namespace);
      for (const manifest of manifests) {
        if (['ServiceAccount', 'Role', 'RoleBinding'].includes(manifest.object.kind ?? '')) {
          await objects.create(inNamespace(manifest.object, namespace));
        }
      }
      const serviceAccount = find(manifests, 'ServiceAccount').metadata!.name!;
      user = `system:serviceaccount:${namespace}:${serviceAccount}`;
      const env = find<V1Deployment>(manifests, 'Deployment').spec!.template.spec!.containers[0]
        .env;
      leaseName = env!.find(({ name }) => name === 'LEASE_NAME')!.value!;
      const reports = reportsLeaseName(leaseName);
      leaseNames = [leaseName, ...spreadLeaseNames('leaseName', reports, REPORTS_SHARES)];
      // The authorizer works from an informer cache: wait until the binding is in effect.
      const deadline = Date.now() + 30_000;
      while (!(await allowed('get', lease(leaseName)))) {
        if (Date.now() > deadline)
          throw new Error(`the RoleBinding for ${user} did not take effect within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    it("names the Deployment's LEASE_NAME and the reports election's Leases in its lease rule", () => {
      const role = find<V1Role>(manifests, 'Role');
      const leaseRules = role.rules!.filter((rule) => rule.resources?.includes('leases'));
      expect(leaseRules.map((rule) => rule.resourceNames)).toEqual([leaseNames]);
    });

    it('grants get, create, update and watch on each of those Leases', async () => {
      for (const name of leaseNames) {
        for (const verb of ['get', 'create', 'update', 'watch']) {
          const what = `${verb} ${name}`;
          expect(`${what}: ${await allowed(verb, lease(name))}`).toBe(`${what}: true`);
        }
      }
    });

    it("grants get, create and patch on the leader Service's slice, and nothing else on slices", async () => {
      const slice = (name?: string) => ({
        group: 'discovery.k8s.io',
        resource: 'endpointslices',
        name,
      });
      const checks = [
        ...['get', 'create', 'patch'].map(
          (verb) => [verb, slice('sample-app-leader'), true] as const,
        ),
        ...['update', 'delete', 'watch'].map(
          (verb) => [verb, slice('sample-app-leader'), false] as const,
        ),
        ['create', slice(), false],
        ['list', slice(), false],
        ['patch', slice('sample-app'), false],
      ] as const;
      for (const [verb, resource, expected] of checks) {
        const what = `${verb} ${resource.name ?? '(any slice)'}`;
        expect(`${what}: ${await allowed(verb, resource)}`).toBe(`${what}: ${expected}`);
      }
    });

    it('grants nothing on other Leases, and no list, patch or delete', async () => {
      const denied = [
        ['update', lease('another-controller')],
        ['get', lease('another-controller')],
        // A seventh share is no Lease of the sample's.
        ['get', lease(`${reportsLeaseName(leaseName)}-share-${REPORTS_SHARES}`)],
        ['create', lease()],
        ['list', lease()],
        ['patch', lease(leaseName)],
        ['delete', lease(leaseName)],
      ] as const;
      for (const [verb, resource] of denied) {
        const what = `${verb} ${resource.name ?? '(any lease)'}`;
        expect(`${what}: ${await allowed(verb, resource)}`).toBe(`${what}: false`);
      }
    });

    it('grants create on events (for `events: true`)', async () => {
      expect(await allowed('create', { group: '', resource: 'events' })).toBe(true);
    });
  });
});
