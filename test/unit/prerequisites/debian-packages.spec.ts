// What `npm test` does about missing Debian packages (test/prerequisites.mjs): install them itself on
// a Debian machine as root, otherwise name the fix.
import { describe, expect, it } from '@jest/globals';
import {
  debianPackagePlan,
  type DebianFacts,
  packagesFor,
} from '../../prerequisites/debian-packages.mjs';

const freshDebianAsRoot: DebianFacts = {
  missing: ['faketime'],
  root: true,
  debian: true,
  aptGet: true,
  aptListsEmpty: false,
  noInstall: false,
};

describe('packagesFor', () => {
  it('maps missing tools to their Debian packages, each package once', () => {
    expect(packagesFor(['unshare', 'faketime', 'setpriv', 'ip'])).toEqual([
      'util-linux',
      'faketime',
      'iproute2',
    ]);
    expect(packagesFor([])).toEqual([]);
  });
});

describe('debianPackagePlan', () => {
  it('does nothing when nothing is missing, whatever the machine', () => {
    expect(
      debianPackagePlan({ ...freshDebianAsRoot, missing: [], root: false, debian: false }),
    ).toEqual({ kind: 'ready' });
  });

  it('installs the missing packages on Debian as root', () => {
    expect(debianPackagePlan(freshDebianAsRoot)).toEqual({
      kind: 'install',
      commands: [['apt-get', 'install', '-y', 'faketime']],
    });
  });

  it('runs apt-get update first when the package lists were never downloaded', () => {
    expect(
      debianPackagePlan({
        ...freshDebianAsRoot,
        missing: ['faketime', 'iproute2'],
        aptListsEmpty: true,
      }),
    ).toEqual({
      kind: 'install',
      commands: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', 'faketime', 'iproute2'],
      ],
    });
  });

  it('names the fix instead when NKL_NO_INSTALL is set', () => {
    const plan = debianPackagePlan({ ...freshDebianAsRoot, noInstall: true });
    expect(plan.kind).toBe('fix');
    expect(plan.kind === 'fix' && plan.fix).toMatch(/apt-get install faketime/);
    expect(plan.kind === 'fix' && plan.fix).toMatch(/NKL_NO_INSTALL/);
  });

  it('names the fix with sudo when not root', () => {
    const plan = debianPackagePlan({ ...freshDebianAsRoot, root: false });
    expect(plan).toEqual({
      kind: 'fix',
      fix: expect.stringMatching(/sudo apt-get install faketime/),
    });
  });

  it.each([
    ['not Debian', { debian: false }],
    ['Debian without apt-get', { aptGet: false }],
  ])('names the package to install when %s', (_, facts) => {
    const plan = debianPackagePlan({ ...freshDebianAsRoot, ...facts });
    expect(plan.kind).toBe('fix');
    expect(plan.kind === 'fix' && plan.fix).toMatch(/faketime/);
    expect(plan.kind === 'fix' && plan.fix).toMatch(/package manager/);
  });

  it('says why each missing package is needed', () => {
    const plan = debianPackagePlan({
      ...freshDebianAsRoot,
      missing: ['faketime', 'iproute2'],
      root: false,
    });
    expect(plan.kind === 'fix' && plan.fix).toMatch(/clock faults/);
    expect(plan.kind === 'fix' && plan.fix).toMatch(/test kubelet/);
  });
});
