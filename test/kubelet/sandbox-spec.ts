// What the test kubelet hands to test/kubelet/pod-sandbox.mjs for one container.
export interface SandboxSpec {
  /** The "kubernetes" Service's cluster IP (on the pod's loopback, by the kubelet) and port. */
  serviceIp: string;
  servicePort: number;
  /** The kubelet's unix socket that reaches the API server (the pod's route to the Service). */
  apiSocket: string;
  /** Container ports, each reachable from the kubelet through a unix socket. */
  ports: { port: number; socket: string }[];
  /** The kubelet's `..data` directory of the service-account volume, and where the pod sees it. */
  serviceAccountDir: string;
  serviceAccountMountPath: string;
  /** The image's files (the repository) and where the container sees them. */
  imageDir: string;
  imageMountPath: string;
  workingDir: string;
  command: string[];
  env: Record<string, string>;
  runAsUser: number | null;
  runAsGroup: number | null;
  readOnlyRootFilesystem: boolean;
  noNewPrivileges: boolean;
  dropAllCapabilities: boolean;
}
