import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/tfjs-node*', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'],
              message: 'Only @probunet/backends may import a TensorFlow.js backend binding.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', performance: 'readonly' } },
  },
  {
    files: ['packages/backends/**', '**/*.test.ts', '**/test/**', 'bench/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
