import { probunetTsupConfig, tfjsCoreGradientsPlugin } from '../../tsup.shared.js';

export default probunetTsupConfig(
  { index: 'src/index.ts', internal: 'src/internal.ts', random: 'src/ops/random.ts', 'node/index': 'src/node/index.ts', 'testing/index': 'src/testing/index.ts' },
  // tfjs-core's Node entry (CJS) has no gradient functions and its ESM files use directory imports
  // that Node cannot load, so the gradient registration is bundled here, and only it: the plugin
  // points everything else it imports at the installed @tensorflow/tfjs-core (a peer dependency).
  { noExternal: [/^@tensorflow\/tfjs-core\/dist\//], esbuildPlugins: [tfjsCoreGradientsPlugin()] },
);
