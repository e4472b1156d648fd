/** What is known about this machine when `npm test` checks its Debian packages. */
export interface DebianFacts {
  /** Debian packages whose tools are missing (see {@link packagesFor}). */
  missing: string[];
  root: boolean;
  /** /etc/debian_version exists. */
  debian: boolean;
  /** apt-get is on PATH. */
  aptGet: boolean;
  /** /var/lib/apt/lists holds no package list yet (a fresh container image). */
  aptListsEmpty: boolean;
  /** NKL_NO_INSTALL is set: name the fix, install nothing. */
  noInstall: boolean;
}

/** Nothing to do, the commands to run (each printed first), or the fix to name. */
export type DebianPlan =
  { kind: 'ready' } | { kind: 'install'; commands: string[][] } | { kind: 'fix'; fix: string };

/** The Debian packages that provide these tools, each once, in the tools' order. */
export function packagesFor(tools: string[]): string[];

/** What to do about missing Debian packages, from the facts alone. */
export function debianPackagePlan(facts: DebianFacts): DebianPlan;
