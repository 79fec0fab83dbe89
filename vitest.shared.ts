import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: resolve `@probunet/*` imports to their TypeScript sources through the
 * `@probunet/source` export condition, so tests never need a prior build.
 */
export function probunetVitestConfig(options: { setupFiles?: string[]; testTimeout?: number } = {}) {
  const conditions = ['@probunet/source', ...defaultServerConditions];
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@probunet/source'] } },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      setupFiles: options.setupFiles ?? [],
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
    },
  });
}
