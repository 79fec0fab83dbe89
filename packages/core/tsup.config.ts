import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
  // tfjs-core's Node entry (CJS) has no gradient functions and its ESM files use directory imports
  // that Node cannot load, so the gradient registration is bundled here. tfjs-core keeps its engine
  // and registries on globalThis, so the bundled registration fills the one registry every copy uses.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
