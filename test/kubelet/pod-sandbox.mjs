// The test kubelet's pod sandbox (what a container runtime does for one container), run as root in the
// pod's network namespace (test/kubelet/pod-network.ts: its own address on the pod network, and the
// Service IP of the API server on its loopback) inside `unshare --mount --propagation private`, so that
// nothing it mounts is seen outside:
//
//   - network: the Service IP of the API server ("kubernetes" Service, 10.0.0.1:443) forwarded to the
//     kubelet's unix socket, which reaches the real API server on the host's loopback; each container
//     port is reachable from the kubelet through a unix socket (probes: the kubelet runs outside the
//     pod network), and from other pods at the pod's address;
//   - files: the image (a read-only bind of the repository at /mnt/app), the service-account volume at
//     /var/run/secrets/kubernetes.io/serviceaccount (a read-only bind of the kubelet's `..data`
//     directory, so rotations show through), the root filesystem read-only when the pod asks for it;
//   - the process: the container's user and group, no capabilities, no privilege escalation, only the
//     environment the kubelet computed; SIGTERM and SIGINT are passed on, its exit status is ours.
//
// Usage: node pod-sandbox.mjs '<json>' (see SandboxSpec in test/kubelet/sandbox-spec.ts).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const spec = JSON.parse(process.argv[2]);
const run = (command, ...args) => execFileSync(command, args, { stdio: 'inherit' });

// /run is the pod's own (empty) /run; the service-account volume is mounted into it.
run('mount', '-t', 'tmpfs', '-o', 'mode=755,size=1m', 'tmpfs', '/run');
fs.mkdirSync(spec.serviceAccountMountPath, { recursive: true });
run('mount', '--bind', spec.serviceAccountDir, spec.serviceAccountMountPath);
run('mount', '-o', 'remount,bind,ro', spec.serviceAccountMountPath);

// The image: the repository, read-only, at a path any user can reach.
run('mount', '-t', 'tmpfs', '-o', 'mode=755,size=1m', 'tmpfs', '/mnt');
fs.mkdirSync(spec.imageMountPath);
run('mount', '--bind', spec.imageDir, spec.imageMountPath);
run('mount', '-o', 'remount,bind,ro', spec.imageMountPath);

const servers = [];
const pipe = (a, b) => {
  a.pipe(b).on('error', () => a.destroy());
  b.pipe(a).on('error', () => b.destroy());
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
};
const listen = (server, ...where) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...where, resolve);
    servers.push(server);
  });
await listen(
  net.createServer((socket) => pipe(socket, net.connect(spec.apiSocket))),
  spec.servicePort,
  spec.serviceIp,
);
for (const { port, socket } of spec.ports) {
  fs.rmSync(socket, { force: true });
  await listen(
    net.createServer((client) => pipe(client, net.connect(port, '127.0.0.1'))),
    socket,
  );
}

if (spec.readOnlyRootFilesystem) run('mount', '-o', 'remount,bind,ro', '/');

const [command, ...args] = spec.command;
const privileges =
  spec.runAsUser === null
    ? []
    : [
        'setpriv',
        `--reuid=${spec.runAsUser}`,
        `--regid=${spec.runAsGroup ?? spec.runAsUser}`,
        '--clear-groups',
        ...(spec.dropAllCapabilities ? ['--inh-caps=-all', '--bounding-set=-all'] : []),
        ...(spec.noNewPrivileges ? ['--no-new-privs'] : []),
        '--',
      ];
const argv = [...privileges, command, ...args];
const app = spawn(argv[0], argv.slice(1), {
  cwd: spec.workingDir,
  env: spec.env,
  stdio: 'inherit',
});
// The kubelet reads the container's PID (for its resource usage) from fd 3.
fs.writeSync(3, `${app.pid}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.kill(signal));
app.on('exit', (code, signal) => {
  for (const server of servers) server.close();
  process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2));
});
