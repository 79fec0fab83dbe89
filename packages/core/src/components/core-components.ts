import { ConvGaussian, type ConvGaussianConfig } from './conv-gaussian.js';
import { TileConcatFusion, type TileConcatFusionConfig } from './fusion-head.js';
import { UNetEncoder, type UNetEncoderConfig } from './unet-encoder.js';
import { componentFactory, type ProbUNetPlugin } from '../plugin-registry.js';
import type { Encoder, FusionHead, LatentNet } from '../spec/components.js';

/**
 * The built-in components alone: `unet`, `conv-gaussian`, `tile-concat-1x1`. `corePlugin` adds the
 * `prob-unet` model to them; `createProbUNet` resolves parts through these when given no registry.
 */
export const coreComponents: ProbUNetPlugin = {
  name: '@probunet/core',
  encoders: { unet: componentFactory<UNetEncoderConfig, Encoder>('unet', (c) => new UNetEncoder(c)) },
  latentNets: { 'conv-gaussian': componentFactory<ConvGaussianConfig, LatentNet>('conv-gaussian', (c) => new ConvGaussian(c)) },
  fusionHeads: { 'tile-concat-1x1': componentFactory<TileConcatFusionConfig, FusionHead>('tile-concat-1x1', (c) => new TileConcatFusion(c)) },
};
