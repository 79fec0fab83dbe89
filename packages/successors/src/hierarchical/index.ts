import type { ProbUNetPlugin } from '@probunet/core';
import { HIERARCHICAL_TYPE, type HierarchicalProbUNetConfig } from './config.js';
import { HierarchicalProbUNet } from './hierarchical-prob-unet.js';
import { hierarchicalParameterShapes } from './parameter-shapes.js';

export {
  HIERARCHICAL_DEFAULTS,
  HIERARCHICAL_TYPE,
  type HierarchicalObjective,
  type HierarchicalProbUNetConfig,
  type HierarchicalProbUNetModelConfig,
} from './config.js';
export { HierarchicalProbUNet, levelKl, type HierarchicalSampleOptions, type LevelDistributions } from './hierarchical-prob-unet.js';
export type { LevelGaussian } from './hierarchical-core.js';
export { LagrangeMultiplier } from './geco.js';
export { hierarchicalParameterShapes } from './parameter-shapes.js';

/** The hierarchical Prob. U-Net's registry entries: its model factory and parameter shapes under `hierarchical-prob-unet`. */
export const hierarchicalPluginParts: Pick<ProbUNetPlugin, 'models' | 'parameterShapes'> = {
  models: { [HIERARCHICAL_TYPE]: (c) => new HierarchicalProbUNet(c as HierarchicalProbUNetConfig) },
  parameterShapes: { [HIERARCHICAL_TYPE]: hierarchicalParameterShapes },
};
