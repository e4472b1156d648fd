// A test kubelet: runs the Pods of a Deployment on the local control plane the way a kubelet would,
// as processes on this machine (there is no scheduler, controller-manager or container runtime here).
//
// For each Pod it creates the Pod object (so admission adds the service-account volume, and tokens can
// be bound to it), requests a token for the Pod's ServiceAccount with the TokenRequest API (bound to
// the Pod, the shortest expiry the API allows), lays out the service-account volume as the kubelet
// does, gives the Pod its own network namespace and address (test/kubelet/pod-network.ts) and reports
// it in the Pod's status (`status.podIP`), and starts the container in a sandbox
// (test/kubelet/pod-sandbox.mjs) in that network namespace: a private mount namespace, the Service IP
// of the API server, the template's user, capabilities and read-only root, the template's environment
// with the downward API. It runs the probes, and on deletion sends SIGTERM, then SIGKILL after the
// grace period, and removes the pod's network. Tokens can be rotated as the kubelet rotates them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Container,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1Probe,
} from '@kubernetes/client-node';
import { PodNetwork, type PodAttachment } from './pod-network.js';
import type { SandboxSpec } from './sandbox-spec.js';
import { ServiceAccountVolume } from './service-account-volume.js';

const SANDBOX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pod-sandbox.mjs');
/** Where the sandbox mounts the image (the repository). */
const IMAGE_MOUNT = '/mnt/app';
/** TokenRequest's minimum expiry (the API refuses less than 10 minutes). */
const SHORTEST_TOKEN_SECONDS = 600;
/** The PATH of a Debian-based node image. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What the kubelet runs for the Deployment's container: the "image", as files of this machine. */
export interface Image {
  /** Host directory mounted read-only at /mnt/app (the repository: node_modules, dist, build output). */
  readonly dir: string;
  /** The container's command, with paths as the container sees them (under /mnt/app). */
  readonly command: string[];
  /** The image's own environment (Dockerfile ENV). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface TestKubeletOptions {
  /** A cluster-admin KubeConfig: the kubelet creates Pods, tokens and Secrets. */
  readonly admin: KubeConfig;
  readonly namespace: string;
  /** The API server's loopback port and CA (what the service-account volume's ca.crt holds). */
  readonly apiServerPort: number;
  readonly caFile: string;
  readonly image: Image;
  /** Where pod directories go (sockets, volumes, logs). Kept short: unix socket paths are limited. */
  readonly podsDir: string;
  /** The pods' IPv4 subnet (test/kubelet/pod-addresses.ts): default NKL_POD_SUBNET, else 10.244.0.0/24. */
  readonly podSubnet?: string;
  readonly log?: (line: string) => void;
}

/** A token the kubelet wrote into a pod's volume. */
export interface IssuedToken {
  readonly token: string;
  /** The token's ID (JWT `jti`), which the audit log shows as the credential of each request. */
  readonly id: string;
  /** What the token is bound to: the Pod, or a Secret the kubelet created so a test can revoke it. */
  readonly boundTo: { kind: 'Pod' | 'Secret'; name: string };
}

export interface ContainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningPod {
  readonly name: string;
  readonly uid: string;
  /** The Pod as the kubelet last wrote it (its status has the pod's address). */
  readonly object: V1Pod;
  /** The pod's own address on the pod network (`status.podIP`). */
  readonly ip: string;
  /** The container's stdout and stderr lines, in order. */
  readonly logs: string[];
  ready: boolean;
  restarts: number;
  exit: ContainerExit | undefined;
  tokens: IssuedToken[];
}

interface PodRuntime {
  pod: RunningPod;
  dir: string;
  network: PodAttachment;
  volume: ServiceAccountVolume;
  apiServer: net.Server;
  sandbox: ChildProcess | undefined;
  /** The container's process (the sandbox's child), as the sandbox reported it. */
  containerPid: number | undefined;
  exited: Promise<ContainerExit> | undefined;
  probes: NodeJS.Timeout[];
  deleting: boolean;
  spec: SandboxSpec;
}

export class TestKubelet {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly pods = new Map<string, PodRuntime>();
  /** Every pod this kubelet ran, deleted ones too, in start order: their logs outlive them. */
  private readonly ran: RunningPod[] = [];
  private readonly log: (line: string) => void;
  /** Created with the first pod (its checks name what this machine lacks). */
  private network: PodNetwork | undefined;

  constructor(private readonly options: TestKubeletOptions) {
    this.core = options.admin.makeApiClient(CoreV1Api);
    this.apps = options.admin.makeApiClient(AppsV1Api);
    this.log = options.log ?? (() => undefined);
    fs.mkdirSync(options.podsDir, { recursive: true, mode: 0o755 });
  }

  /** Creates and starts `replicas` Pods from the Deployment's template (default: its replicas). */
  async startDeployment(name: string, replicas?: number): Promise<RunningPod[]> {
    const deployment = await this.apps.readNamespacedDeployment({
      name,
      namespace: this.options.namespace,
    });
    const count = replicas ?? deployment.spec?.replicas ?? 1;
    const hash = randomBytes(5).toString('hex').slice(0, 9);
    const started: RunningPod[] = [];
    for (let i = 0; i < count; i++) {
      started.push(await this.startPod(`${name}-${hash}`, deployment.spec!.template, hash));
    }
    return started;
  }

  /** Creates one Pod object from `template` and runs it. */
  async startPod(
    generateName: string,
    template: V1PodTemplateSpec,
    templateHash = 'test',
  ): Promise<RunningPod> {
    const name = `${generateName}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const created = await this.core.createNamespacedPod({
      namespace: this.options.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': templateHash },
          annotations: template.metadata?.annotations,
        },
        spec: { ...template.spec!, nodeName: 'test-kubelet' },
      },
    });
    const service = await this.kubernetesService();
    // The sandbox first, as a kubelet sets up the pod's network before its containers: the address
    // is in the status before the container's environment (status.podIP) is computed.
    this.network ??= PodNetwork.create({ subnet: this.options.podSubnet, log: this.log });
    const network = this.network.attach([service.ip]);
    const object = await this.reportRunning(created, network.ip).catch((error: unknown) => {
      this.network?.detach(network);
      throw error;
    });
    this.log(`${name}: address ${network.ip} (netns ${network.netns})`);
    const dir = path.join(this.options.podsDir, name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const apiServer = net.createServer((socket) => {
      const upstream = net.connect(this.options.apiServerPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    const apiSocket = path.join(dir, 'api.sock');
    await new Promise<void>((resolve) => apiServer.listen(apiSocket, resolve));

    const pod: RunningPod = {
      name,
      uid: object.metadata!.uid!,
      object,
      ip: network.ip,
      logs: [],
      ready: false,
      restarts: 0,
      exit: undefined,
      tokens: [],
    };
    const volume = new ServiceAccountVolume(path.join(dir, 'serviceaccount'));
    const runtime: PodRuntime = {
      pod,
      dir,
      network,
      volume,
      apiServer,
      sandbox: undefined,
      containerPid: undefined,
      exited: undefined,
      probes: [],
      deleting: false,
      spec: this.sandboxSpec(object, service, dir, apiSocket, volume.dir),
    };
    this.pods.set(name, runtime);
    this.ran.push(pod);
    await this.rotateToken(name);
    this.startContainer(runtime);
    return pod;
  }

  /**
   * Writes a new token into the pod's volume, as the kubelet does before the old one expires. With
   * `boundTo: 'Secret'` the token is bound to a Secret created for it (so that deleting the Secret
   * revokes this token while the Pod lives on); by default it is bound to the Pod.
   */
  async rotateToken(podName: string, options: { boundTo?: 'Pod' | 'Secret' } = {}) {
    const runtime = this.runtime(podName);
    const { pod } = runtime;
    const namespace = this.options.namespace;
    const serviceAccount = pod.object.spec?.serviceAccountName ?? 'default';
    let boundObjectRef = { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid };
    if (options.boundTo === 'Secret') {
      const secret = await this.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: `${pod.name}-token-${pod.tokens.length}` },
          type: 'Opaque',
        },
      });
      boundObjectRef = {
        apiVersion: 'v1',
        kind: 'Secret',
        name: secret.metadata!.name!,
        uid: secret.metadata!.uid!,
      };
    }
    const request = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: SHORTEST_TOKEN_SECONDS, boundObjectRef } },
    });
    const token = request.status!.token;
    runtime.volume.write({
      token,
      'ca.crt': fs.readFileSync(this.options.caFile, 'utf8'),
      namespace,
    });
    const issued: IssuedToken = {
      token,
      id: tokenId(token),
      boundTo: { kind: boundObjectRef.kind as 'Pod' | 'Secret', name: boundObjectRef.name },
    };
    pod.tokens.push(issued);
    this.log(
      `${pod.name}: token ${issued.id} (bound to ${boundObjectRef.kind} ${boundObjectRef.name})`,
    );
    return issued;
  }

  /** Revokes a token bound to a Secret by deleting the Secret. */
  async revoke(token: IssuedToken): Promise<void> {
    if (token.boundTo.kind !== 'Secret') throw new Error('only Secret-bound tokens can be revoked');
    await this.core.deleteNamespacedSecret({
      name: token.boundTo.name,
      namespace: this.options.namespace,
    });
  }

  /**
   * Deletes the Pod as the API server and kubelet do: a graceful delete, SIGTERM to the container,
   * SIGKILL once the grace period (`terminationGracePeriodSeconds`) has passed, then the object goes.
   */
  async deletePod(podName: string): Promise<ContainerExit> {
    const runtime = this.runtime(podName);
    runtime.deleting = true;
    const grace = runtime.pod.object.spec?.terminationGracePeriodSeconds ?? 30;
    await this.core.deleteNamespacedPod({
      name: podName,
      namespace: this.options.namespace,
      gracePeriodSeconds: grace,
    });
    const exit = await this.stopContainer(runtime, grace * 1000);
    for (const timer of runtime.probes) clearInterval(timer);
    runtime.apiServer.close();
    this.network?.detach(runtime.network);
    await this.core
      .deleteNamespacedPod({
        name: podName,
        namespace: this.options.namespace,
        gracePeriodSeconds: 0,
      })
      .catch(() => undefined);
    this.pods.delete(podName);
    return exit;
  }

  /**
   * Kills every container at once (test clean-up), closes the sockets, removes the pods' network
   * namespaces (veth pairs, bridge) and the pods' files.
   */
  async stopAll(): Promise<void> {
    for (const runtime of this.pods.values()) {
      runtime.deleting = true;
      for (const timer of runtime.probes) clearInterval(timer);
      this.killGroup(runtime, 'SIGKILL');
      runtime.apiServer.close();
    }
    await Promise.all([...this.pods.values()].map((r) => r.exited));
    this.pods.clear();
    this.network?.destroy();
    this.network = undefined;
    fs.rmSync(this.options.podsDir, { recursive: true, force: true }); // sockets, volumes, logs
  }

  /** Resident memory and CPU time of a pod's container process, from /proc. */
  usage(podName: string): { rssBytes: number; cpuSeconds: number } | undefined {
    const runtime = this.runtime(podName);
    try {
      const pid = runtime.containerPid;
      if (!pid) return undefined;
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
      // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the "(comm)" field.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      return { rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
    } catch {
      return undefined;
    }
  }

  /** The container process's environment as it runs (/proc/<pid>/environ); undefined before it started. */
  environment(podName: string): Record<string, string> | undefined {
    const pid = this.runtime(podName).containerPid;
    if (!pid) return undefined;
    const entries = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    return Object.fromEntries(entries.map((entry) => entry.split(/=(.*)/s, 2) as [string, string]));
  }

  /** An HTTP GET to a container port, as a probe does (through the pod's port socket). */
  httpGet(podName: string, port: number, pathname: string, timeoutMs = 1000) {
    const socket = this.runtime(podName).spec.ports.find((p) => p.port === port)?.socket;
    if (!socket) return Promise.reject(new Error(`${podName} exposes no port ${port}`));
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.get(
        { socketPath: socket, path: pathname, timeout: timeoutMs },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('probe timed out')));
      request.on('error', reject);
    });
  }

  /**
   * Runs `argv` in the pod's network namespace, outside its sandbox (as root, with this machine's
   * files): how a test reaches the pod network, as `kubectl exec` of a network tool would.
   */
  exec(
    podName: string,
    argv: string[],
    timeoutMs = 10_000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const { netnsPath } = this.runtime(podName).network;
    return new Promise((resolve) => {
      execFile(
        'nsenter',
        [`--net=${netnsPath}`, '--', ...argv],
        { encoding: 'utf8', timeout: timeoutMs },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  pod(podName: string): RunningPod {
    return this.runtime(podName).pod;
  }

  /** Every pod this kubelet started, running or deleted, in start order (with their logs). */
  podsRun(): readonly RunningPod[] {
    return [...this.ran];
  }

  /** The volume's directory on this machine (what the pod sees at its mount path). */
  serviceAccountDir(podName: string): string {
    return this.runtime(podName).volume.dir;
  }

  private runtime(podName: string): PodRuntime {
    const runtime = this.pods.get(podName);
    if (!runtime) throw new Error(`no pod ${podName} on this kubelet`);
    return runtime;
  }

  /** The "kubernetes" Service's cluster IP and port: what pods reach the API server at. */
  private async kubernetesService(): Promise<{ ip: string; port: number }> {
    const service = await this.core.readNamespacedService({
      name: 'kubernetes',
      namespace: 'default',
    });
    return { ip: service.spec!.clusterIP!, port: service.spec!.ports![0].port };
  }

  /** Writes the Pod's status as a kubelet does once its sandbox runs: phase, node and pod address. */
  private reportRunning(pod: V1Pod, podIp: string): Promise<V1Pod> {
    const hostIp = this.network!.gateway;
    return this.core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: this.options.namespace,
      body: {
        ...pod,
        status: {
          ...pod.status,
          phase: 'Running',
          hostIP: hostIp,
          hostIPs: [{ ip: hostIp }],
          podIP: podIp,
          podIPs: [{ ip: podIp }],
          startTime: new Date(),
        },
      },
    });
  }

  private sandboxSpec(
    pod: V1Pod,
    service: { ip: string; port: number },
    dir: string,
    apiSocket: string,
    serviceAccountDir: string,
  ): SandboxSpec {
    const container = onlyContainer(pod);
    const podSecurity = pod.spec?.securityContext ?? {};
    const security = container.securityContext ?? {};
    const runAsUser = security.runAsUser ?? podSecurity.runAsUser ?? null;
    const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot ?? false;
    // The kubelet refuses to start such a container ("image will run as root").
    if (runAsNonRoot && !runAsUser) {
      throw new Error(`${pod.metadata!.name}: runAsNonRoot without a numeric non-root runAsUser`);
    }
    const mount = container.volumeMounts?.find((m) => m.name.startsWith('kube-api-access-'));
    if (!mount) throw new Error(`${pod.metadata!.name}: admission added no service-account volume`);
    const { ip: serviceIp, port: servicePort } = service;
    const ports = (container.ports ?? []).map(({ containerPort }) => ({
      port: containerPort,
      socket: path.join(dir, `port-${containerPort}.sock`),
    }));
    const { image } = this.options;
    return {
      serviceIp,
      servicePort,
      apiSocket,
      ports,
      serviceAccountDir,
      serviceAccountMountPath: mount.mountPath,
      imageDir: image.dir,
      imageMountPath: IMAGE_MOUNT,
      workingDir: container.workingDir ?? IMAGE_MOUNT,
      command: image.command,
      env: {
        PATH: IMAGE_PATH,
        HOSTNAME: pod.metadata!.name!,
        HOME: '/',
        ...image.env,
        ...serviceEnv(serviceIp, servicePort),
        ...containerEnv(pod, container),
      },
      runAsUser,
      runAsGroup: security.runAsGroup ?? podSecurity.runAsGroup ?? null,
      readOnlyRootFilesystem: security.readOnlyRootFilesystem ?? false,
      noNewPrivileges: security.allowPrivilegeEscalation === false,
      dropAllCapabilities: security.capabilities?.drop?.includes('ALL') ?? false,
    };
  }

  private startContainer(runtime: PodRuntime): void {
    const { pod, spec } = runtime;
    const logFile = fs.createWriteStream(path.join(runtime.dir, 'container.log'), { flags: 'a' });
    // nsenter and unshare exec their command: the sandbox's PID is the one spawned here.
    const sandbox = spawn(
      'nsenter',
      [
        `--net=${runtime.network.netnsPath}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        process.execPath,
        SANDBOX,
        JSON.stringify(spec),
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    runtime.sandbox = sandbox;
    runtime.containerPid = undefined;
    createInterface({ input: sandbox.stdio[3] as NodeJS.ReadableStream }).on('line', (line) => {
      runtime.containerPid = Number(line);
    });
    for (const stream of [sandbox.stdout!, sandbox.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        pod.logs.push(line);
        logFile.write(`${line}\n`);
      });
    }
    runtime.exited = new Promise((resolve) => {
      sandbox.once('exit', (code, signal) => {
        const exit = { code, signal };
        pod.exit = exit;
        pod.ready = false;
        logFile.end();
        this.log(`${pod.name}: container exited (${signal ?? `code ${code}`})`);
        resolve(exit);
      });
    });
    pod.exit = undefined;
    const container = onlyContainer(pod.object);
    this.probe(runtime, container.readinessProbe, (ok) => (pod.ready = ok));
    this.probe(runtime, container.livenessProbe, (ok) => {
      if (!ok && !runtime.deleting) void this.restart(runtime);
    });
  }

  /** Runs a probe every periodSeconds; reports a change after failureThreshold / successThreshold. */
  private probe(runtime: PodRuntime, probe: V1Probe | undefined, report: (ok: boolean) => void) {
    const get = probe?.httpGet;
    if (!probe || !get) return;
    const port = typeof get.port === 'number' ? get.port : Number(get.port);
    let failures = 0;
    let successes = 0;
    const check = async () => {
      let ok: boolean;
      try {
        const { status } = await this.httpGet(
          runtime.pod.name,
          port,
          get.path ?? '/',
          (probe.timeoutSeconds ?? 1) * 1000,
        );
        ok = status >= 200 && status < 400;
      } catch {
        ok = false;
      }
      if (ok) {
        failures = 0;
        if (++successes >= (probe.successThreshold ?? 1)) report(true);
      } else {
        successes = 0;
        if (++failures >= (probe.failureThreshold ?? 3)) report(false);
      }
    };
    const start = setTimeout(
      () => {
        void check();
        runtime.probes.push(setInterval(() => void check(), (probe.periodSeconds ?? 10) * 1000));
      },
      (probe.initialDelaySeconds ?? 0) * 1000,
    );
    runtime.probes.push(start);
  }

  /** A failed liveness probe: the container is stopped (grace period) and started again. */
  private async restart(runtime: PodRuntime): Promise<void> {
    this.log(`${runtime.pod.name}: liveness probe failed, restarting the container`);
    for (const timer of runtime.probes) clearInterval(timer);
    runtime.probes = [];
    const grace = runtime.pod.object.spec?.terminationGracePeriodSeconds ?? 30;
    await this.stopContainer(runtime, grace * 1000);
    if (runtime.deleting) return;
    runtime.pod.restarts++;
    this.startContainer(runtime);
  }

  private async stopContainer(runtime: PodRuntime, graceMs: number): Promise<ContainerExit> {
    if (runtime.pod.exit) return runtime.pod.exit;
    runtime.sandbox?.kill('SIGTERM'); // the sandbox passes it on to the container
    const timer = setTimeout(() => this.killGroup(runtime, 'SIGKILL'), graceMs);
    const exit = await runtime.exited!;
    clearTimeout(timer);
    return exit;
  }

  private killGroup(runtime: PodRuntime, signal: NodeJS.Signals): void {
    const pid = runtime.sandbox?.pid;
    if (!pid || runtime.pod.exit) return;
    try {
      process.kill(-pid, signal); // the sandbox and the container share its process group
    } catch {
      // already gone
    }
  }
}

function onlyContainer(pod: V1Pod): V1Container {
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error('the test kubelet runs pods of one container');
  return containers[0];
}

/** The variables every container gets for the "kubernetes" Service (docker links style). */
function serviceEnv(ip: string, port: number): Record<string, string> {
  return {
    KUBERNETES_SERVICE_HOST: ip,
    KUBERNETES_SERVICE_PORT: String(port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(port),
    KUBERNETES_PORT: `tcp://${ip}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP`]: `tcp://${ip}:${port}`,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: String(port),
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: ip,
  };
}

/** `metadata.labels['<key>']` or `metadata.annotations['<key>']`: the map and the key. */
const METADATA_ENTRY = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/**
 * The container's `env`, values and downward-API field references: the Pod's name, namespace, uid,
 * node, service account, addresses (`status.podIP`, and `status.podIPs` comma-separated, from the
 * status the kubelet wrote before starting the container), and one label or annotation
 * (`metadata.labels['pod-template-hash']`, as a Deployment's manifest reads its revision). A label
 * or annotation the Pod lacks is an empty string, as the kubelet gives it.
 */
export function containerEnv(pod: V1Pod, container: V1Container): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.podIPs': pod.status?.podIPs?.map(({ ip }) => ip).join(','),
  };
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    const entry = fieldPath === undefined ? null : METADATA_ENTRY.exec(fieldPath);
    if (entry) {
      const map = entry[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
      env[variable.name] = map?.[entry[2]] ?? '';
    } else if (fieldPath !== undefined) {
      if (!Object.hasOwn(fields, fieldPath)) {
        throw new Error(`test kubelet: unsupported fieldRef ${fieldPath}`);
      }
      const value = fields[fieldPath];
      if (value === undefined) {
        throw new Error(`test kubelet: fieldRef ${fieldPath} is not set on the Pod`);
      }
      env[variable.name] = value;
    } else if (variable.valueFrom) {
      throw new Error(`test kubelet: unsupported valueFrom in ${variable.name}`);
    } else {
      env[variable.name] = variable.value ?? '';
    }
  }
  return env;
}

/** The `jti` claim of a service-account token (a JWT). */
export function tokenId(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
    jti?: string;
  };
  if (!payload.jti) throw new Error('the token has no jti claim');
  return payload.jti;
}
