/**
 * `@probunet/core/internal`: the building blocks the other `@probunet/*` packages share with core
 * (the backend-capability protocol and conv ops that `@probunet/backends` implements, the loss and
 * Gaussian ops and input validation that `@probunet/baselines` reuses, Adam). **Unstable**: no
 * semver promise; names may change in any release. Applications use the main entry.
 */
export {
  backendCapabilities,
  capabilityMarker,
  CAPABILITY_KERNELS,
  SOFTMAX_LIKELIHOOD_GRAD_KERNEL,
  conv2dSame,
  conv2dFilterGrad,
  conv2dInputGrad,
  type Activation,
  type BackendCapabilities,
} from './ops/conv.js';
export { gaussianLogDensity, klDiagonalGaussians, randomStandardNormal, sampleGaussian } from './ops/gaussian.js';
export { assertBackendReady } from './backend-ready.js';
export { sumAll, sumOfSquares } from './ops/sum.js';
export { expandConfig } from './model/config.js';
export {
  canReadSync,
  validateAnnotationsAsync,
  validateImages,
  validateImagesAsync,
  validateLabels,
  validateLabelsAsync,
} from './spec/input.js';
export { drawLogLikelihoods, halfSquaredNorm, labelLogLikelihood, oneHotMasked } from './ops/loss.js';
export { Adam, type AdamOptions, type PendingUpdate } from './training/adam.js';
