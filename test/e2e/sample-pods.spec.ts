// The sample as a cluster runs it: its image built by the Dockerfile's steps, sample/k8s/ applied as
// shipped, three Pods on the test kubelet (in-cluster configuration from the service-account volume,
// tokens from the TokenRequest API bound to each Pod, the manifests' user and read-only root). The
// election must work with exactly the shipped RBAC, survive the kubelet's token rotations, and hand
// over when the leader's Pod is deleted; the sample's `reports` election (jobs spread over 6 shares)
// must spread over the three pods with the same RBAC.
import fs from 'node:fs';
import { CoordinationV1Api, KubeConfig, Watch, type V1Lease } from '@kubernetes/client-node';
import { spreadLeaseNames } from '../../lib/core/spread/shares.js';
import { REPORTS_SHARES, reportsLeaseName } from '../../sample/src/reports.js';
import { readAuditEvents } from '../control-plane/audit.js';
import { itPrintingPodLogs } from '../kubelet/pod-logs.js';
import { startSamplePods, type SamplePods } from '../kubelet/sample-pods.js';
import type { IssuedToken, RunningPod } from '../kubelet/kubelet.js';
import { loadCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';

const LEASE = 'sample-app'; // the Deployment's LEASE_NAME and the Role's resourceNames
/** The reports election's Leases (members, share-0 to share-5), also in the Role's resourceNames. */
const REPORTS_LEASES = spreadLeaseNames('leaseName', reportsLeaseName(LEASE), REPORTS_SHARES);
const SERVICE_ACCOUNT = 'sample-app';
const LEADER_SLICE = 'sample-app-leader'; // sample/k8s/leader-service.yaml

describe('the sample as three pods on the shipped manifests', () => {
  let cluster: Cluster;
  let sample: SamplePods;
  // Jest's `it`, printing what every pod wrote when a test fails.
  const it = itPrintingPodLogs(() => sample?.kubelet);
  let leases: CoordinationV1Api;

  beforeAll(async () => {
    cluster = loadCluster();
    sample = await startSamplePods({ state: cluster.state });
    leases = cluster.kubeConfigs.admin.makeApiClient(CoordinationV1Api);
  }, 240_000);

  afterAll(async () => {
    await sample?.kubelet.stopAll();
  });

  const lease = () => leases.readNamespacedLease({ name: LEASE, namespace: sample.namespace });
  const podOf = (holder: string | null | undefined) =>
    sample.pods.find((pod) => holder?.startsWith(`${pod.name}_`));
  const running = () => sample.pods.filter((pod) => !pod.exit);
  /** The Lease once `accept` holds for it (polled every 100 ms: a condition wait). */
  async function leaseWhen(accept: (lease: V1Lease) => boolean, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const current = await lease();
        if (accept(current)) return current;
        last = current.spec;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what} not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
  }
  /** Lease requests of the sample's ServiceAccount, with the ID of the token each one carried. */
  const requestsOfPods = (since?: Date) =>
    readAuditEvents(cluster.auditLogPath, {
      username: `system:serviceaccount:${sample.namespace}:${SERVICE_ACCOUNT}`,
      namespace: sample.namespace,
      since,
    }).map((event) => ({
      verb: event.verb,
      code: event.responseStatus?.code,
      name: event.objectRef?.name,
      pod: event.user.extra?.['authentication.kubernetes.io/pod-name']?.[0],
      tokenId: event.user.extra?.['authentication.kubernetes.io/credential-id']?.[0]?.replace(
        /^JTI=/,
        '',
      ),
    }));
  /** Whether the app's election (its Lease's lock) used `token`: each Lease's lock reads the token
   * file on its own (the reports election's too), and the revocation below needs this one's. */
  const usedToken = (token: IssuedToken, since: Date) =>
    requestsOfPods(since).some((r) => r.tokenId === token.id && r.code === 200 && r.name === LEASE);

  it('elects one leader with the in-cluster configuration and exactly the shipped RBAC', async () => {
    const elected = await leaseWhen((l) => podOf(l.spec?.holderIdentity) !== undefined, 'a leader');
    expect(running()).toHaveLength(3);
    // Every request came from the pods' ServiceAccount with a token the kubelet issued for that pod.
    const requests = requestsOfPods();
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const pod = sample.pods.find((p) => p.name === request.pod);
      expect(pod?.tokens.map((t) => t.id)).toContain(request.tokenId);
      // The Leases, and the leader-only Service's EndpointSlice the leader keeps.
      expect([LEASE, ...REPORTS_LEASES, LEADER_SLICE]).toContain(request.name);
    }
    // The Leases were created through PUT to their names (allowed by `create` with resourceNames):
    // no request was denied, and none went to the collection (a POST has no name: checked above).
    // Conflicts are answers, not denials: pods that start together race to create and write the
    // same Leases (409, or 422 for a PUT that would create a Lease that exists by then).
    const answered = [200, 201, 404, 409];
    expect(
      requests.filter(
        (r) => !answered.includes(r.code!) && !(r.code === 422 && r.verb === 'update'),
      ),
    ).toEqual([]);
    const leader = podOf(elected.spec?.holderIdentity)!;
    await eventually(() => leads(leader), 30_000, 'the holder leading');
    expect(sample.pods.filter(leads)).toEqual([leader]);
    const startLine = leader.logs.find((line) =>
      line.includes(`campaigning for lease ${sample.namespace}/${LEASE} `),
    );
    expect(startLine).toContain(
      'namespace from the service account (/var/run/secrets/kubernetes.io/serviceaccount/namespace)',
    );
    // The readiness probe (terminus, /health/ready) passes on all three.
    await eventually(() => sample.pods.every((pod) => pod.ready), 30_000, 'all pods ready');
  });

  it('spreads the reports election over the three pods: two shares each', async () => {
    await eventually(
      () => sample.pods.every((pod) => sharesRun(pod).length === 2),
      90_000,
      'two reports shares per pod',
      100,
    );
    const shares = sample.pods.flatMap(sharesRun).sort((a, b) => a - b);
    expect(shares).toEqual([0, 1, 2, 3, 4, 5]);
    // Each pod runs the report jobs of its shares: job lines from all three.
    await eventually(
      () => sample.pods.every((pod) => pod.logs.some((line) => line.includes('[ReportJobs]'))),
      30_000,
      'report jobs on every pod',
    );
  }, 150_000);

  it("lets the pods' token use its own Lease and no other Lease in the namespace", async () => {
    const pod = sample.pods[0];
    const token = fs.readFileSync(`${sample.kubelet.serviceAccountDir(pod.name)}/token`, 'utf8');
    const asPod = new KubeConfig();
    asPod.loadFromOptions({
      clusters: [{ name: 'c', server: cluster.server, caFile: cluster.state.tls.caFile! }],
      users: [{ name: 'pod', token }],
      contexts: [{ name: 'c', cluster: 'c', user: 'pod' }],
      currentContext: 'c',
    });
    const api = asPod.makeApiClient(CoordinationV1Api);
    const namespace = sample.namespace;
    const other = 'another-app';
    const status = (request: Promise<unknown>) =>
      request.then(
        () => 200,
        (error: { code?: number }) => error.code,
      );
    const body = (name: string): V1Lease => ({ metadata: { name }, spec: { holderIdentity: 'x' } });

    expect(await status(api.readNamespacedLease({ name: LEASE, namespace }))).toBe(200);
    expect(await status(api.readNamespacedLease({ name: other, namespace }))).toBe(403);
    // A create through POST cannot be allowed by name; through PUT to the name it is `create`.
    expect(await status(api.createNamespacedLease({ namespace, body: body(other) }))).toBe(403);
    expect(
      await status(api.replaceNamespacedLease({ name: other, namespace, body: body(other) })),
    ).toBe(403);
    // The watch names the Lease by a field selector, which RBAC checks as that name.
    const watchStatus = (fieldSelector?: string) =>
      new Promise<number | undefined>((resolve) => {
        void new Watch(asPod)
          .watch(
            `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
            fieldSelector ? { fieldSelector } : {},
            () => undefined,
            (error) => resolve((error as { statusCode?: number } | null)?.statusCode),
          )
          .then((controller) => {
            resolve(200);
            controller.abort();
          });
      });
    expect(await watchStatus(`metadata.name=${LEASE}`)).toBe(200);
    expect(await watchStatus(`metadata.name=${other}`)).toBe(403);
    expect(await watchStatus()).toBe(403);
    // Nothing else: no list, even of its own Lease.
    expect(
      await status(api.listNamespacedLease({ namespace, fieldSelector: `metadata.name=${LEASE}` })),
    ).toBe(403);
  });

  it("keeps the leader through the kubelet's token rotations, also when the old token is revoked", async () => {
    const before = await leaseWhen((l) => podOf(l.spec?.holderIdentity) !== undefined, 'a leader');
    const holder = before.spec!.holderIdentity!;
    const leader = podOf(holder)!;
    // The holder leads once its listener said so (a creator of the Lease waits one leaseDuration).
    await eventually(() => leads(leader), 30_000, 'the holder leading');
    const changes = () => sample.pods.map((pod) => changeLines(pod).length);
    const changesBefore = changes();
    const usageBefore = sample.pods.map((pod) => sample.kubelet.usage(pod.name));
    const measuredFrom = Date.now();

    // (a) New content while the old token stays valid. The leader's new token is bound to a Secret,
    // so that (b) can revoke it while the Pod lives on. Within a minute (the file is read again
    // every minute) the leader renews with it.
    const rotatedAt = new Date();
    const secretBound = await sample.kubelet.rotateToken(leader.name, { boundTo: 'Secret' });
    for (const pod of sample.pods) {
      if (pod !== leader) await sample.kubelet.rotateToken(pod.name);
    }
    await eventually(
      () => usedToken(secretBound, rotatedAt),
      90_000,
      'the leader renewing with its new token',
      100, // each check parses the audit log
    );

    // (b) The kubelet writes another token, and the one in use stops being valid at once (its bound
    // object is deleted), before the file is due to be read again: the leader's next renew is
    // answered 401, the lock reads the file again and the renew succeeds with the new token.
    const revokedAt = new Date();
    const podBound = await sample.kubelet.rotateToken(leader.name);
    await sample.kubelet.revoke(secretBound);
    await eventually(
      () => usedToken(podBound, revokedAt),
      30_000,
      'the leader renewing with the newest token',
      100, // each check parses the audit log
    );
    // The revoked token was answered 401 once (the audit log records failed authentications with
    // no user), and the leader carried on.
    const unauthorized = readAuditEvents(cluster.auditLogPath, {
      namespace: sample.namespace,
      name: LEASE,
      since: revokedAt,
      stage: 'any', // a failed authentication is recorded at ResponseStarted
    }).filter((event) => event.responseStatus?.code === 401);
    expect(unauthorized.length).toBeGreaterThanOrEqual(1);

    const after = await lease();
    expect(after.spec?.holderIdentity).toBe(holder);
    expect(after.spec?.leaseTransitions).toBe(before.spec?.leaseTransitions);
    // The sample's @OnLeaderChange listener logs every change it sees: none since the rotations.
    expect(changes()).toEqual(changesBefore);
    expect(changeLines(leader).at(-1)).toContain('is now the leader');

    // Steady-state usage (the manifests' requests and limits come from these figures).
    sample.pods.forEach((pod, index) => {
      const now = sample.kubelet.usage(pod.name)!;
      const cpu =
        (now.cpuSeconds - usageBefore[index]!.cpuSeconds) / ((Date.now() - measuredFrom) / 1000);
      console.log(
        `${pod === leader ? 'leader  ' : 'follower'} ${pod.name}: RSS ${(now.rssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${(cpu * 1000).toFixed(1)} millicores`,
      );
    });
  }, 150_000);

  it('hands leadership over when the leader pod is deleted (SIGTERM, release)', async () => {
    const before = await leaseWhen((l) => podOf(l.spec?.holderIdentity) !== undefined, 'a leader');
    const leader = podOf(before.spec?.holderIdentity)!;
    const sharesRunBefore = sharesRun(leader);
    const exit = await sample.kubelet.deletePod(leader.name);
    // Nest closed the app (released the Lease) and re-raised SIGTERM: the process ended by SIGTERM,
    // well within the grace period (no SIGKILL).
    expect(exit).toEqual({ code: 143, signal: null });
    const after = await leaseWhen(
      (l) => {
        const pod = podOf(l.spec?.holderIdentity);
        return pod !== undefined && pod !== leader;
      },
      'another pod leading',
      15_000,
    );
    expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
    const released = leader.logs.filter((line) => /released lease|\(released\)/.test(line));
    const reports = reportsLeaseName(LEASE);
    expect(released.filter((line) => !line.includes(reports))).toEqual([
      expect.stringContaining(`released lease ${sample.namespace}/${LEASE}`),
      expect.stringContaining('does not lead sample-app (released)'),
    ]);
    // It released the reports shares it ran too (the others take them).
    for (const share of sharesRunBefore) {
      expect(released).toContainEqual(
        expect.stringContaining(`released lease ${sample.namespace}/${reports}-share-${share}`),
      );
    }
    expect(sharesRun(leader)).toEqual([]);
  });
});

/** The lines the sample's @OnLeaderChange listener logged. */
function changeLines(pod: RunningPod): string[] {
  return pod.logs.filter((line) => line.includes('[LeaderChange]'));
}

/** The reports shares the pod runs, by its ReportShares listener's lines. */
function sharesRun(pod: RunningPod): number[] {
  const running = new Set<number>();
  for (const line of pod.logs) {
    const match = /\[ReportShares\] \S+ (runs|does not run) share (\d+)/.exec(line);
    if (!match) continue;
    if (match[1] === 'runs') running.add(Number(match[2]));
    else running.delete(Number(match[2]));
  }
  return [...running].sort((a, b) => a - b);
}

/** Whether the pod's listener last logged that it leads. */
function leads(pod: RunningPod): boolean {
  return changeLines(pod).at(-1)?.includes('is now the leader') ?? false;
}
