import { defineConfig, type Options } from 'tsup';

/** The one tsup setup every package builds with: ESM, .d.ts, source maps, dependencies external. */
export function probunetTsupConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    tsconfig: 'tsconfig.build.json',
    ...overrides,
  });
}
