import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer } from './conv-layer.js';
import { SeededRandom } from '../ops/random.js';
import { DownPath } from './down-path.js';
import { checkChannels, positiveInt, seedOf } from './options.js';
import type { Parameter } from '../spec/parameter.js';
import type { ComponentConfig, GaussianParams, LatentNet } from '../spec/components.js';

export interface ConvGaussianOptions {
  imageChannels: number;
  /** Default 0 (a prior). */
  conditionChannels?: number;
  channels: readonly number[];
  convsPerBlock: number;
  latentDim: number;
  /** Default 5. */
  logSigmaBound?: number;
  /** Default 0. */
  seed?: number;
}

export interface ConvGaussianConfig extends ComponentConfig {
  readonly type: 'conv-gaussian';
  readonly imageChannels: number;
  /** 0 for the prior; numClasses for the posterior (the one-hot segmentation − 0.5). */
  readonly conditionChannels: number;
  readonly channels: readonly number[];
  readonly convsPerBlock: number;
  readonly latentDim: number;
  /**
   * Soft bound b on log σ: logσ = b·tanh(raw / b). Near zero this is the identity (the authors'
   * unbounded parameterisation), but σ stays in [e^−b, e^b], so the KL term and the sampled z can
   * never overflow however far the raw output drifts, and gradients never vanish abruptly as they
   * would under a hard clamp. Default 5: σ ∈ [0.0067, 148].
   */
  readonly logSigmaBound: number;
  readonly seed: number;
}

/**
 * The authors' `AxisAlignedConvGaussian`: down path over the (image ⊕ condition), global average
 * pool of the last level, 1×1 conv to 2·latentDim = [μ, log σ].
 */
export class ConvGaussian implements LatentNet {
  readonly kind = 'latent-net' as const;
  readonly type = 'conv-gaussian';
  readonly imageChannels: number;
  readonly conditionChannels: number;
  readonly latentDim: number;
  readonly downsamplingFactor: number;
  private readonly config: ConvGaussianConfig;
  private readonly down: DownPath;
  private readonly head: ConvLayer;

  constructor(config: ConvGaussianOptions) {
    checkChannels('conv-gaussian latent net', config.channels, config.convsPerBlock);
    positiveInt('conv-gaussian latent net', 'imageChannels', config.imageChannels);
    positiveInt('conv-gaussian latent net', 'latentDim', config.latentDim);
    const conditionChannels = config.conditionChannels ?? 0;
    if (!Number.isInteger(conditionChannels) || conditionChannels < 0) {
      throw new RangeError(`conv-gaussian latent net: conditionChannels must be an integer ≥ 0, got ${conditionChannels}`);
    }
    const logSigmaBound = config.logSigmaBound ?? 5;
    if (!(logSigmaBound > 0)) throw new RangeError(`conv-gaussian latent net: logSigmaBound must be > 0, got ${logSigmaBound}`);
    this.config = {
      type: 'conv-gaussian',
      imageChannels: config.imageChannels,
      conditionChannels,
      channels: [...config.channels],
      convsPerBlock: config.convsPerBlock,
      latentDim: config.latentDim,
      logSigmaBound,
      seed: seedOf(config.seed),
    };
    const rng = new SeededRandom(this.config.seed);
    this.imageChannels = config.imageChannels;
    this.conditionChannels = conditionChannels;
    this.latentDim = config.latentDim;
    this.downsamplingFactor = 2 ** (config.channels.length - 1);
    this.down = new DownPath(config.imageChannels + conditionChannels, config.channels, config.convsPerBlock, rng);
    this.head = new ConvLayer({
      kernelSize: 1,
      inputChannels: config.channels[config.channels.length - 1]!,
      outputChannels: 2 * config.latentDim,
      activation: 'linear',
      weightDecay: true,
      rng,
    });
  }

  apply(images: tf.Tensor4D, condition?: tf.Tensor4D): GaussianParams {
    if (this.conditionChannels > 0 && !condition) {
      throw new TypeError(`this latent net expects a ${this.conditionChannels}-channel condition (a posterior needs the segmentation)`);
    }
    if (this.conditionChannels === 0 && condition) {
      throw new TypeError('this latent net takes no condition (it is a prior); pass the image alone');
    }
    const [mean, logSigma] = tf.tidy('probunet/latent-net', () => {
      const input = condition ? tf.concat([images, condition], 3) : images;
      const levels = this.down.apply(input);
      const pooled = tf.mean(levels[levels.length - 1]!, [1, 2], true) as tf.Tensor4D;
      const out = tf.reshape(this.head.apply(pooled), [-1, 2 * this.latentDim]) as tf.Tensor2D;
      const [mu, raw] = tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
      const b = this.config.logSigmaBound;
      return [mu, tf.mul(tf.tanh(tf.div(raw, b)), b) as tf.Tensor2D];
    });
    return { mean, logSigma };
  }

  parameters(): Parameter[] {
    return [...this.down.parameters('down'), ...this.head.parameters('head')];
  }

  getConfig(): ConvGaussianConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    this.down.dispose();
    this.head.dispose();
  }
}
