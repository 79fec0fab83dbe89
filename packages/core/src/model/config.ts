import type { ComponentConfig, Encoder, FusionHead, LatentNet } from '../spec/components.js';

/** The label value that is masked out of the loss and every metric (Cityscapes' 255). */
export const DEFAULT_IGNORE_LABEL = 255;

/**
 * The short form: one set of hyper-parameters, the standard components. Defaults are the authors'
 * (their Cityscapes configuration); `inputChannels` and `numClasses` are always yours to give.
 */
export interface ProbUNetConfig {
  inputChannels: number;
  numClasses: number;
  /** Per level, finest first; shared by the U-Net and both latent nets. Default [32,64,128,192,192,192,192]. */
  channels?: number[];
  /** 3×3 convs per block. Default 3. */
  convsPerBlock?: number;
  /** Default 6. */
  latentDim?: number;
  /** Hidden 1×1 convs in the fusion head. Default 3. */
  num1x1Convs?: number;
  /** Weight of the KL term. Default 1. */
  beta?: number;
  /** Default 255. Pixels with this label are excluded from the loss and the posterior's input. */
  ignoreLabel?: number;
  /** Soft bound on log σ of both latent nets (see ConvGaussianConfig). Default 5. */
  logSigmaBound?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

export const AUTHORS_DEFAULTS = {
  channels: [32, 64, 128, 192, 192, 192, 192],
  convsPerBlock: 3,
  latentDim: 6,
  num1x1Convs: 3,
  beta: 1,
  logSigmaBound: 5,
} as const;

/** The explicit form: every component by JSON config (rebuilt through a registry) or as an instance. */
export interface ProbUNetParts {
  encoder: Encoder | ComponentConfig;
  prior: LatentNet | ComponentConfig;
  posterior: LatentNet | ComponentConfig;
  fusion: FusionHead | ComponentConfig;
  beta?: number;
  ignoreLabel?: number;
}

/** What `model.getConfig()` returns: plain JSON that rebuilds the model through a registry. */
export interface ProbUNetModelConfig {
  format: 'probunet-model';
  version: 1;
  encoder: ComponentConfig;
  prior: ComponentConfig;
  posterior: ComponentConfig;
  fusion: ComponentConfig;
  beta: number;
  ignoreLabel: number;
}

/** Expands the short form into component configs for the built-in components. */
export function expandConfig(config: ProbUNetConfig): ProbUNetModelConfig {
  const channels = config.channels ?? [...AUTHORS_DEFAULTS.channels];
  const convsPerBlock = config.convsPerBlock ?? AUTHORS_DEFAULTS.convsPerBlock;
  const latentDim = config.latentDim ?? AUTHORS_DEFAULTS.latentDim;
  const logSigmaBound = config.logSigmaBound ?? AUTHORS_DEFAULTS.logSigmaBound;
  const seed = config.seed ?? 0;
  const latent = { type: 'conv-gaussian', imageChannels: config.inputChannels, channels, convsPerBlock, latentDim, logSigmaBound };
  return {
    format: 'probunet-model',
    version: 1,
    encoder: { type: 'unet', inputChannels: config.inputChannels, channels, convsPerBlock, seed },
    prior: { ...latent, conditionChannels: 0, seed: seed + 1 },
    posterior: { ...latent, conditionChannels: config.numClasses, seed: seed + 2 },
    fusion: {
      type: 'tile-concat-1x1',
      featureChannels: channels[0] ?? 0,
      latentDim,
      numClasses: config.numClasses,
      num1x1Convs: config.num1x1Convs ?? AUTHORS_DEFAULTS.num1x1Convs,
      seed: seed + 3,
    },
    beta: config.beta ?? AUTHORS_DEFAULTS.beta,
    ignoreLabel: config.ignoreLabel ?? DEFAULT_IGNORE_LABEL,
  };
}
