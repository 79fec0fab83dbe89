import type { ProbUNetPlugin } from '@probunet/core';
import { hierarchicalPluginParts } from './hierarchical/index.js';
import { ssnPluginParts } from './ssn/index.js';

/**
 * The successors as one registry plugin: `createRegistry([corePlugin, baselinesPlugin, successorsPlugin])`
 * builds, saves and restores them like the Prob. U-Net.
 */
export const successorsPlugin: ProbUNetPlugin = {
  name: '@probunet/successors',
  models: { ...ssnPluginParts.models, ...hierarchicalPluginParts.models },
  parameterShapes: { ...ssnPluginParts.parameterShapes, ...hierarchicalPluginParts.parameterShapes },
};
