// Who holds a Lease, as a watcher outside the election sees it: every change of `holderIdentity`
// (a release shows as the empty holder), with the runner's clock when the event arrived. Independent of
// what the candidates report about themselves.
import { KubeConfig, Watch, type V1Lease } from '@kubernetes/client-node';

export interface HolderChange {
  /** Wall-clock ms when the watch event arrived. */
  at: number;
  /** `holderIdentity`, '' when released. */
  holder: string;
  leaseTransitions: number;
}

export class LeaseHolderWatch {
  /** One entry per change of holder, in order. */
  readonly changes: HolderChange[] = [];
  private controller: AbortController | undefined;
  private resourceVersion: string | undefined;
  private stopped = false;
  private readonly watch: Watch;

  constructor(
    kubeconfig: string,
    private readonly namespace: string,
    private readonly lease: string,
  ) {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    this.watch = new Watch(config);
  }

  /** Resolves once the watch is open. */
  async start(): Promise<this> {
    this.controller = await this.watch.watch(
      `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`,
      {
        fieldSelector: `metadata.name=${this.lease}`,
        ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}),
      },
      (type, lease: V1Lease) => this.seen(type, lease),
      // The server ends a watch after its request timeout; carry on from the last version seen.
      () => {
        if (!this.stopped) void this.start().catch(() => undefined);
      },
    );
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  /** Changes to a holder other than the previous holder, released or not, in [from, to). */
  acquisitions(from: number, to: number): HolderChange[] {
    let previous: string | undefined;
    const result: HolderChange[] = [];
    for (const change of this.changes) {
      if (change.holder === '') continue;
      if (
        previous !== undefined &&
        change.holder !== previous &&
        change.at >= from &&
        change.at < to
      )
        result.push(change);
      previous = change.holder;
    }
    return result;
  }

  private seen(type: string, lease: V1Lease): void {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    this.resourceVersion = lease.metadata?.resourceVersion;
    const holder = lease.spec?.holderIdentity ?? '';
    if (this.changes.at(-1)?.holder === holder) return;
    this.changes.push({
      at: Date.now(),
      holder,
      leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    });
  }
}
