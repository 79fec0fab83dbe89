import type { ProbUNetPlugin } from '@probunet/core';
import { ssnParameterShapes } from './parameter-shapes.js';
import { StochasticSegmentationNetwork } from './stochastic-segmentation-network.js';
import type { SSNConfig } from './ssn-options.js';

/** The SSN's registry parts: model type `ssn` and its parameter shapes (successorsPlugin combines them). */
export const ssnPluginParts: Pick<ProbUNetPlugin, 'models' | 'parameterShapes'> = {
  models: { ssn: (config) => new StochasticSegmentationNetwork(config as unknown as SSNConfig) },
  parameterShapes: { ssn: ssnParameterShapes },
};
