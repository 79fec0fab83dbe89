import { probunetTsupConfig } from '../../tsup.shared.js';

export default probunetTsupConfig(
  { index: 'src/index.ts', random: 'src/ops/random.ts', 'node/index': 'src/node/index.ts', 'testing/index': 'src/testing/index.ts' },
  // tfjs-core's Node entry (CJS) has no gradient functions and its ESM files use directory imports
  // that Node cannot load, so the gradient registration is bundled here. tfjs-core keeps its engine
  // and registries on globalThis, so the bundled registration fills the one registry every copy uses.
  { noExternal: [/^@tensorflow\/tfjs-core\/dist\//] },
);
