import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'node/data-parallel-worker': 'src/node/data-parallel-worker.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
  // The data-parallel trainer finds its worker next to itself (import.meta.url): no shared chunks.
  splitting: false,
});
