// Jest runs in native ESM mode (Nest 12 and client-node are ESM-only); @swc/jest compiles TypeScript
// with legacy decorators and decorator metadata, as Nest needs.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'es6' },
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Tests written as a user would import the package by name: map it to the sources.
    '^nestjs-kube-leader$': '<rootDir>/lib/index.ts',
    '^nestjs-kube-leader/(core|kubernetes|health|metrics|testing)$': '<rootDir>/lib/$1/index.ts',
  },
  testEnvironment: 'node',
  // The consumer projects of the compatibility matrix run their own tests with their own runners.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/compat/cells/',
    '<rootDir>/test/compat/cli/',
  ],
  modulePathIgnorePatterns: ['<rootDir>/test/compat/cells/', '<rootDir>/test/compat/cli/'],
};

export default {
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.spec.ts',
        '<rootDir>/test/e2e/**/*.spec.ts',
        '<rootDir>/test/compat/**/*.spec.ts',
      ],
      globalSetup: '<rootDir>/test/control-plane/jest-global-setup.ts',
      globalTeardown: '<rootDir>/test/control-plane/jest-global-teardown.ts',
    },
    // Starts and restarts a control plane of its own (it stops the API server and etcd).
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.spec.ts'] },
    // The benchmark's quick mode as a smoke test (its own control plane too).
    { ...common, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.spec.ts'] },
  ],
};
