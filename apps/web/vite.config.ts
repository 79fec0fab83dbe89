import { defaultClientConditions, defineConfig } from 'vite';

/**
 * The static site: `vite build` writes dist/, `vite` serves it for development. `@probunet/*` imports
 * resolve to the packages' TypeScript sources (the `@probunet/source` export condition), so the app
 * builds without building the packages first; the TensorFlow.js backends are split into their own
 * chunks and loaded only when chosen.
 */
export default defineConfig({
  base: './',
  resolve: { conditions: ['@probunet/source', ...defaultClientConditions] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500, reportCompressedSize: false },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
