import { probunetTsupConfig } from '../../tsup.shared.js';

export default probunetTsupConfig(
  { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'node/data-parallel-worker': 'src/node/data-parallel-worker.ts' },
  // The data-parallel trainer finds its worker next to itself (import.meta.url): no shared chunks.
  // @probunet/native (an optional dependency, which tsup would bundle) finds its compiled addon
  // relative to its own files: it must stay an import.
  { splitting: false, external: ['@probunet/native'] },
);
