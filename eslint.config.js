// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CLIENT_NODE = [
  {
    group: ['@kubernetes/client-node', '@kubernetes/client-node/*'],
    message: 'Only lib/kubernetes imports @kubernetes/client-node.',
  },
];
const NEST = [{ group: ['@nestjs/*'], message: 'lib/core and lib/kubernetes do not import Nest.' }];

/** The engine's import rule for a folder of lib/core: `outside` is the path pattern out of lib/core. */
function engineImports(outside) {
  return [
    'error',
    {
      patterns: [
        ...CLIENT_NODE,
        ...NEST,
        { group: ['rxjs', 'rxjs/*'], message: 'lib/core does not use rxjs.' },
        { group: [outside], message: 'lib/core imports only lib/core.' },
      ],
    },
  ];
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      '.control-plane/**',
      'test/compat/cells/*/node_modules/**',
      'test/compat/cells/*/build/**',
      'test/compat/cli/nest*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
  },
  {
    // Small files with one job: a file past this size holds several.
    files: ['lib/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      // A Nest 11 project's tests compile this package with jest's CommonJS transform, which refuses
      // `import.meta` (docs/testing.md): lib/ finds what it needs from the app's paths instead.
      'no-restricted-syntax': [
        'error',
        {
          selector: "MetaProperty[meta.name='import']",
          message: "import.meta breaks the CommonJS transform of Nest 11 projects' tests",
        },
      ],
    },
  },
  {
    // lib/kubernetes is the only importer of client-node (README, Contributing: layers).
    files: ['lib/**/*.ts'],
    ignores: ['lib/kubernetes/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: CLIENT_NODE }],
    },
  },
  {
    // The engine must stay free of Nest and client-node (design.md section 1).
    files: ['lib/core/**/*.ts'],
    rules: { 'no-restricted-imports': engineImports('../*') },
  },
  {
    // lib/core/spread (elections spread over shares) and lib/core/fires (every fire once) are part
    // of the engine: they import lib/core.
    files: ['lib/core/spread/**/*.ts', 'lib/core/fires/**/*.ts'],
    rules: { 'no-restricted-imports': engineImports('../../*') },
  },
  {
    // The Kubernetes lock: client-node and lib/core, no Nest.
    files: ['lib/kubernetes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...NEST,
            { group: ['rxjs', 'rxjs/*'], message: 'lib/kubernetes does not use rxjs.' },
            {
              group: ['../*', '!../core', '!../core/*'],
              message: 'lib/kubernetes imports only lib/core and itself.',
            },
          ],
        },
      ],
    },
  },
);
