import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The allowed dependency graph between the workspace's projects, by the tags in each package.json's
 * `nx.tags`: every package is `type:lib` and may not import an app; apps (`type:app`) import
 * packages, never each other; and each package imports only the packages its `scope:` lists
 * (its own scope included). Nx also fails any import cycle between projects.
 */
const scopes = {
  'scope:colour-maps': [],
  'scope:metrics': [],
  'scope:native': [],
  'scope:core': [],
  'scope:datasets': ['scope:core', 'scope:metrics'],
  'scope:backends': ['scope:core', 'scope:native'],
  'scope:baselines': ['scope:core', 'scope:datasets', 'scope:metrics'],
  'scope:successors': ['scope:core', 'scope:datasets', 'scope:metrics', 'scope:baselines'],
  'scope:evaluation': ['scope:core', 'scope:datasets', 'scope:metrics', 'scope:backends', 'scope:baselines'],
};
const backendBindings = {
  group: ['@tensorflow/tfjs-node*', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'],
  message: 'Only @probunet/backends may import a TensorFlow.js backend binding.',
};
/** Core's unstable building blocks are for the packages of this repository, not for apps. */
const coreInternal = {
  group: ['@probunet/core/internal'],
  message: '@probunet/core/internal is unstable and for @probunet/* packages; apps use @probunet/core (ask for an export there).',
};
/** No TensorFlow at all in these: typed arrays in, numbers (or colours) out. */
const noTensorFlow = ['scope:metrics', 'scope:colour-maps'];

/** The Nx rule's options; `scoped: false` drops the per-package lists (for tests). */
function boundaries({ scoped }) {
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      // The shared build and test settings at the workspace root, and the GPU check's report schema.
      allow: ['../../tsup.shared.js', '../../vitest.shared.js', '../../../scripts/gpu-check/report-schema.js'],
      depConstraints: [
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
        ...(scoped ? Object.entries(scopes).map(([sourceTag, allowed]) => ({ sourceTag, onlyDependOnLibsWithTags: [sourceTag, ...allowed] })) : []),
        ...noTensorFlow.map((sourceTag) => ({ sourceTag, bannedExternalImports: ['@tensorflow/*'] })),
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', 'bench/results/**', '**/build/**', '**/build-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [backendBindings] }],
    },
  },
  {
    // Module boundaries (Nx project graph and tags) and no import cycles inside a project.
    files: ['**/*.ts', '**/*.mts', '**/*.tsx'],
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true, project: ['packages/*/tsconfig.json', 'apps/*/tsconfig.json'] })],
    },
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ scoped: true }),
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Tests may use any package (a backend's test trains a baseline), still never an app.
    files: ['**/*.test.ts', '**/test/**'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ scoped: false }) },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly' } },
  },
  {
    files: ['apps/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [backendBindings, coreInternal] }] },
  },
  {
    files: ['packages/backends/**', '**/*.test.ts', '**/test/**', 'bench/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
