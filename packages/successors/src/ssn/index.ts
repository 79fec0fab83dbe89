export { StochasticSegmentationNetwork } from './stochastic-segmentation-network.js';
export { SSN_DEFAULTS, type SSNConfig, type SSNModelConfig } from './ssn-options.js';
export { logitDeviations, monteCarloLogLikelihood, type LowRankLogits } from './low-rank-logits.js';
export { ssnParameterShapes } from './parameter-shapes.js';
export { ssnPluginParts } from './ssn-plugin.js';
