// Which Debian packages `npm test` needs, and what to do when some are missing: on a Debian machine,
// as root, install them (printing the command, as the npm dependencies are installed); otherwise, or
// with NKL_NO_INSTALL set, name the fix. A pure function of the facts, so it is tested without
// touching the machine (test/unit/prerequisites); test/prerequisites.mjs gathers the facts.

/** Tool -> the Debian package that provides it, and why `npm test` needs it. */
const TOOLS = {
  faketime: 'faketime',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  nsenter: 'util-linux',
  mount: 'mount',
  ip: 'iproute2',
  openssl: 'openssl',
  strace: 'strace',
};
const WHY = {
  faketime: "libfaketime, for the fault-injection run's clock faults",
  'util-linux': 'unshare, setpriv and nsenter, for the test kubelet',
  mount: 'mount, for the test kubelet',
  iproute2: "ip, for the test kubelet's pod network",
  openssl: "openssl, for the HA control plane's serving certificate",
  strace: "strace, for the HA fault run's slow etcd writes (fdatasync delayed by fault injection)",
};

/** The tools `npm test` runs that a Debian package provides. */
export const TOOLS_NEEDED = Object.keys(TOOLS);

export function packagesFor(tools) {
  return [...new Set(tools.map((tool) => TOOLS[tool]))];
}

export function debianPackagePlan(facts) {
  const { missing } = facts;
  if (missing.length === 0) return { kind: 'ready' };
  const needed =
    `npm test needs the Debian package${missing.length > 1 ? 's' : ''} ` +
    missing.map((name) => `${name} (${WHY[name]})`).join(', ');
  const names = missing.join(' ');
  if (!facts.debian || !facts.aptGet) {
    return {
      kind: 'fix',
      fix: `${needed}: install ${missing.length > 1 ? 'them' : 'it'} with your system's package manager (this is not a Debian machine with apt-get).`,
    };
  }
  if (facts.noInstall) {
    return {
      kind: 'fix',
      fix: `${needed}: apt-get install ${names} (NKL_NO_INSTALL is set: npm test installs no Debian package itself).`,
    };
  }
  if (!facts.root) {
    return {
      kind: 'fix',
      fix: `${needed}: sudo apt-get install ${names} (npm test installs Debian packages itself when run as root).`,
    };
  }
  const install = ['apt-get', 'install', '-y', ...missing];
  return {
    kind: 'install',
    commands: facts.aptListsEmpty ? [['apt-get', 'update'], install] : [install],
  };
}
