// Optional peers (terminus, prom-client) are loaded only by their own entry points: an app without
// them installed can import the main entry and `nestjs-kube-leader/testing`, and compile against
// their types (the .d.ts files follow the same imports).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lib');
const OPTIONAL_PEERS = ['@nestjs/terminus', 'prom-client'];

/**
 * What each entry point exports, types included. A new export is an API change: add it here on
 * purpose (and to the CHANGELOG). Test doubles live in `testing` only; the engine's types in `core` only;
 * internal helpers in none.
 */
const EXPORTS: Record<string, string[]> = {
  index: [
    'CatchUpPolicy',
    'DEFAULT_ELECTION',
    'DuplicateElectionError',
    'ElectorStatus',
    'ElectorStoppedError',
    'FencingToken',
    'FireOutcome',
    'FireResult',
    'FireRun',
    'InvalidArgumentError',
    'InvalidOptionError',
    'LEADER_HEADER',
    'LeaderChangeEvent',
    'LeaderChangeReason',
    'LeaderElectionError',
    'LeaderElectionModule',
    'LeaderElectionModuleOptions',
    'LeaderElectionOptionsFactory',
    'ForwardingOptions',
    'LeaderOnly',
    'LeaderOnlyOptions',
    'LeaderOnlyInterceptor',
    'LeaderService',
    'LeaderServiceOptions',
    'LeadershipLostError',
    'LeaseNameTakenError',
    'NotLeaderException',
    'OnLeaderChange',
    'SetupError',
    'SpreadElectionError',
    'UnknownElectionError',
  ],
  'core/index': [
    'Clock',
    'DEFAULT_TIMINGS',
    'ElectionEngine',
    'ElectionEngineStatus',
    'ElectionMetrics',
    'ElectionTimings',
    'ElectorLogger',
    'ElectorPhase',
    'ElectorStatus',
    'ElectorStoppedError',
    'FencingToken',
    'InvalidOptionError',
    'LeaderChangeEvent',
    'LeaderChangeReason',
    'LeaderAddress',
    'LeaderElectionError',
    'LeaderElector',
    'LeaderElectorOptions',
    'LeaderWork',
    'LeaderWorkOutcome',
    'LeadershipLostError',
    'LeaseLock',
    'LeaseRecord',
    'LeaseSpec',
    'LockCallOptions',
    'LockConflictError',
    'LockError',
    'LockErrorKind',
    'LockForbiddenError',
    'LockGoneError',
    'LockNotFoundError',
    'LockOperation',
    'LockRejectedError',
    'LockUnavailableError',
    'LockWatch',
    'LockWatchEvent',
    'LockWatchHandlers',
    'MAX_HONORED_LEASE_DURATION_SECONDS',
    'MemberEntry',
    'MembershipStatus',
    'ReleaseSkipReason',
    'SpreadElectionError',
    'SystemClock',
    'TimerHandle',
    'shareOf',
    'systemClock',
  ],
  'kubernetes/index': [
    'EndpointSliceFencedError',
    'EndpointSliceWriteError',
    'KubernetesLeaseLock',
    'KubernetesLeaseLockOptions',
    'LEADER_ELECTION_EVENT_REASON',
    'LeaseEventRecorder',
    'LeaderEndpoint',
    'LeaderEndpointSlice',
    'LeaderEndpointSliceOptions',
    'LeaderEndpointSlicePort',
    'LeaseEventRecorderOptions',
    'LockAnnotationTooLargeError',
    'defaultIdentity',
    'resolveNamespace',
  ],
  'health/index': [
    'DEFAULT_HEALTH_OPTIONS',
    'LeaderElectionHealthDetails',
    'LeaderElectionHealthIndicator',
    'LeaderElectionHealthModule',
    'LeaderElectionHealthOptions',
    'LeaderElectionShareHealth',
  ],
  'metrics/index': [
    'ELECTION_METRIC_NAMES',
    'PrometheusElectionMetrics',
    'PrometheusElectionMetricsOptions',
    'SetupError',
  ],
  'testing/index': [
    'FakeClock',
    'InMemoryLeaseLock',
    'InMemoryLeaseStore',
    'InvalidArgumentError',
    'LeaderElectionTestingService',
    'LeaderElectionTestingModule',
    'LeaderElectionTestingOptions',
    'LockCall',
    'SetupError',
    'TestingTimeoutError',
  ],
};

/** Every package imported (statically or dynamically, types included) from `entry`, by file. */
function packagesReachableFrom(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) {
        visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        found.set(specifier, path.relative(LIB, file));
      }
    }
  };
  visit(path.join(LIB, entry));
  return found;
}

describe('entry points', () => {
  it.each(['index.ts', 'core/index.ts', 'kubernetes/index.ts', 'testing/index.ts'])(
    '%s never imports an optional peer',
    (entry) => {
      const packages = packagesReachableFrom(entry);
      for (const peer of OPTIONAL_PEERS) {
        expect([peer, packages.get(peer)]).toEqual([peer, undefined]);
      }
    },
  );

  it.each([
    ['health/index.ts', '@nestjs/terminus'],
    ['metrics/index.ts', 'prom-client'],
  ])('%s is where %s is imported', (entry, peer) => {
    expect(packagesReachableFrom(entry).has(peer)).toBe(true);
  });

  describe('exports', () => {
    let program: ts.Program;
    const file = (entry: string) => path.join(LIB, `${entry}.ts`);

    beforeAll(() => {
      program = ts.createProgram(Object.keys(EXPORTS).map(file), {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        experimentalDecorators: true,
        skipLibCheck: true,
        noEmit: true,
      });
    });

    it.each(Object.keys(EXPORTS))('%s exports exactly its public API', (entry) => {
      const checker = program.getTypeChecker();
      const module = checker.getSymbolAtLocation(program.getSourceFile(file(entry))!)!;
      const names = checker.getExportsOfModule(module).map((symbol) => symbol.getName());
      expect(names.sort()).toEqual([...EXPORTS[entry]].sort());
    });
  });

  it('exports every entry point from package.json', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(LIB, '../package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(Object.keys(manifest.exports)).toEqual([
      '.',
      './core',
      './kubernetes',
      './health',
      './metrics',
      './testing',
      './package.json',
    ]);
  });
});
