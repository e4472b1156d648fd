// Run first by `npm test` and `npm run demo` (plain JavaScript: it runs before any dependency is
// installed). Fails fast, naming the fix, when a prerequisite is missing (Node too old; Go when the
// local control plane is not built yet; root for `npm test`), then installs what a fresh machine
// lacks: for `npm test` the Debian packages it needs (faketime; as root on Debian, unless
// NKL_NO_INSTALL is set: test/prerequisites/debian-packages.mjs), and the locked npm dependencies when
// they are not installed already (a fresh clone). Says when the first run will build the control plane.
//
//   node test/prerequisites.mjs [--for test|demo]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianPackagePlan, packagesFor, TOOLS_NEEDED } from './prerequisites/debian-packages.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv.includes('--for')
  ? process.argv[process.argv.indexOf('--for') + 1]
  : 'test';
const say = (line) => console.error(`[prerequisites] ${line}`);

const MIN_NODE = [20, 19, 0];
const MIN_GO = [1, 26];

function versionAtLeast(version, minimum) {
  for (let i = 0; i < minimum.length; i++) {
    if ((version[i] ?? 0) !== minimum[i]) return (version[i] ?? 0) > minimum[i];
  }
  return true;
}

/** Where test/control-plane/build.sh caches kube-apiserver and etcd (the same rule as there). */
function controlPlaneBinaries() {
  const env = Object.fromEntries(
    fs
      .readFileSync(path.join(ROOT, 'test', 'control-plane', 'versions.env'), 'utf8')
      .split('\n')
      .map((line) => /^(\w+)=(.*)$/.exec(line.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
  const cacheRoot =
    process.env.NKL_CONTROL_PLANE_CACHE ??
    path.join(
      process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
      'nestjs-kube-leader',
      'control-plane',
    );
  const dir = path.join(cacheRoot, `kubernetes-${env.KUBERNETES_VERSION}-etcd-${env.ETCD_VERSION}`);
  const built = ['kube-apiserver', 'etcd'].every((name) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return { dir, built };
}

/** Locked packages (not optional: other platforms' binaries) missing or at another version. */
function missingPackages() {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const missing = [];
  for (const [where, entry] of Object.entries(lock.packages ?? {})) {
    if (!where.startsWith('node_modules/') || entry.optional || entry.link) continue;
    try {
      const installed = JSON.parse(fs.readFileSync(path.join(ROOT, where, 'package.json'), 'utf8'));
      if (installed.version !== entry.version) missing.push(`${where} ${entry.version}`);
    } catch {
      missing.push(`${where} ${entry.version}`);
    }
  }
  return missing;
}

/** Whether apt has package lists to install from (a fresh container image has none). */
function aptListsDownloaded() {
  try {
    return fs.readdirSync('/var/lib/apt/lists').some((name) => name.includes('_Packages'));
  } catch {
    return false;
  }
}

const problems = [];
const node = process.versions.node.split('.').map(Number);
if (!versionAtLeast(node, MIN_NODE)) {
  problems.push(
    `Node.js >= ${MIN_NODE.join('.')} is needed (this is ${process.versions.node}): install Node 22 or 24 LTS (https://nodejs.org).`,
  );
}
const controlPlane = controlPlaneBinaries();
if (!controlPlane.built) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const match = /go(\d+)\.(\d+)/.exec(go.stdout ?? '');
  if (go.error || !match) {
    problems.push(
      `Go >= ${MIN_GO.join('.')} is needed once, to build the local kube-apiserver and etcd: install it ` +
        '(https://go.dev/dl/) and put `go` on PATH.',
    );
  } else if (!versionAtLeast([Number(match[1]), Number(match[2])], MIN_GO)) {
    problems.push(
      `Go >= ${MIN_GO.join('.')} is needed to build the local kube-apiserver and etcd (found ${match[0]}): ` +
        'install a newer Go (https://go.dev/dl/).',
    );
  }
}
let debianPlan = { kind: 'ready' };
if (purpose === 'test') {
  if (process.getuid?.() !== 0) {
    // The test kubelet (test/kubelet/) runs pods in private mount and network namespaces, each pod
    // with its own address (veth pairs and a bridge in namespaces it creates), as root.
    problems.push(
      'The test kubelet runs pods in their own mount and network namespaces, each with its own ' +
        'address (veth pairs and a bridge), which needs root: run ' +
        '`npm test` as root (e.g. in a container or CI machine).',
    );
  }
  const missingTools = TOOLS_NEEDED.filter(
    (tool) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).error,
  );
  debianPlan = debianPackagePlan({
    missing: packagesFor(missingTools),
    root: process.getuid?.() === 0,
    debian: fs.existsSync('/etc/debian_version'),
    aptGet: !spawnSync('apt-get', ['--version'], { encoding: 'utf8' }).error,
    aptListsEmpty: !aptListsDownloaded(),
    noInstall: !['', '0', undefined].includes(process.env.NKL_NO_INSTALL),
  });
  if (debianPlan.kind === 'fix') problems.push(debianPlan.fix);
}
if (problems.length > 0) {
  for (const problem of problems) say(problem);
  process.exit(1);
}

if (debianPlan.kind === 'install') {
  say(`installing missing Debian packages (NKL_NO_INSTALL=1 names the fix instead):`);
  for (const command of debianPlan.commands) {
    say(command.join(' '));
    const run = spawnSync(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (run.status !== 0) {
      say(`${command.join(' ')} failed (output above); run it by hand, or apt-get update first.`);
      process.exit(1);
    }
  }
}

const missing = missingPackages();
if (missing.length > 0) {
  say(
    `${missing.length} locked packages are not installed (e.g. ${missing[0]}): npm install --no-save ` +
      '(about a minute the first time)',
  );
  // Not `npm ci`: the lockfile cannot list other platforms' optional binaries (see .ci/run).
  const install = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (install.status !== 0) {
    say('npm install failed (output above); run it by hand: npm install --no-save');
    process.exit(1);
  }
}
if (!controlPlane.built) {
  say(
    'first run: kube-apiserver and etcd are built from Go modules, about 5 minutes on 2 cores ' +
      `(cached afterwards in ${controlPlane.dir})`,
  );
}
