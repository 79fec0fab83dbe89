import * as tf from '@tensorflow/tfjs-core';
import {
  AUTHORS_DEFAULTS,
  ConfigError,
  ConvGaussian,
  ConvLayer,
  SeededRandom,
  UNetEncoder,
  type CheckpointableModel,
  type InputSpec,
  type Parameter,
  type SampleOptions,
} from '@probunet/core';
import {
  klDiagonalGaussians,
  labelLogLikelihood,
  oneHotMasked,
  sampleGaussian,
  validateImages,
} from '@probunet/core/internal';
import { SHORT_FORM_KEYS, checkKnownKeys, finiteAtLeast, positiveInteger, resolveUNetOptions, type UNetOptions, type UNetShortForm } from './model-options.js';

export interface Image2ImageVAEConfig extends UNetShortForm {
  type?: 'image2image-vae';
  /** Default 3. */
  latentDim?: number;
  /** Weight of KL(q(z|x,y) ‖ N(0, I)). Default 10. */
  beta?: number;
  /** Soft bound on the posterior's log σ (see ConvGaussianConfig). Default 5. */
  logSigmaBound?: number;
}

/** What `getConfig()` returns: every option filled in. */
export interface Image2ImageVAEModelConfig extends UNetOptions {
  type: 'image2image-vae';
  latentDim: number;
  beta: number;
  logSigmaBound: number;
}

/**
 * The Image2Image VAE baseline (a conditional VAE in the style of BicycleGAN's cVAE-GAN, without
 * the GAN): z is broadcast over H×W and concatenated with the image at the U-Net's input; the prior
 * is a fixed N(0, I) (no image-conditioned prior net); the posterior q(z|x,y) sees the image and the
 * one-hot segmentation − 0.5. Trained on CE(logits(x, z_q), y) + β·KL(q ‖ N(0, I)); samples draw
 * z ~ N(0, I) and rerun the whole U-Net (the latent enters at its input).
 */
export class Image2ImageVAE implements CheckpointableModel {
  readonly kind = 'image2image-vae' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly latentDim: number;
  readonly beta: number;
  readonly unet: UNetEncoder;
  readonly posterior: ConvGaussian;
  private readonly head: ConvLayer;
  private readonly config: Image2ImageVAEModelConfig;

  constructor(config: Image2ImageVAEConfig) {
    const type = 'image2image-vae';
    checkKnownKeys(type, config, [...SHORT_FORM_KEYS, 'latentDim', 'beta', 'logSigmaBound']);
    const unet = resolveUNetOptions(type, config);
    this.config = {
      type,
      ...unet,
      latentDim: positiveInteger(type, 'latentDim', config.latentDim ?? 3, 3),
      beta: finiteAtLeast(type, 'beta', config.beta ?? 10, 0, 10),
      logSigmaBound: finiteAtLeast(type, 'logSigmaBound', config.logSigmaBound ?? AUTHORS_DEFAULTS.logSigmaBound, 0, 5),
    };
    if (this.config.logSigmaBound === 0) throw new ConfigError(`${type}: logSigmaBound must be > 0, got 0: e.g. logSigmaBound: 5`);
    this.numClasses = unet.numClasses;
    this.ignoreLabel = unet.ignoreLabel;
    this.latentDim = this.config.latentDim;
    this.beta = this.config.beta;
    const { inputChannels, channels, convsPerBlock, seed } = unet;
    this.unet = new UNetEncoder({ inputChannels: inputChannels + this.latentDim, channels, convsPerBlock, seed });
    this.posterior = new ConvGaussian({
      imageChannels: inputChannels,
      conditionChannels: unet.numClasses,
      channels,
      convsPerBlock,
      latentDim: this.latentDim,
      logSigmaBound: this.config.logSigmaBound,
      seed: seed + 2,
    });
    this.head = new ConvLayer({
      kernelSize: 1,
      inputChannels: channels[0]!,
      outputChannels: unet.numClasses,
      activation: 'linear',
      weightDecay: false,
      rng: new SeededRandom(seed + 7),
    });
  }

  get inputSpec(): InputSpec {
    return { channels: this.config.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: this.unet.downsamplingFactor };
  }

  /** images [B,H,W,C], z [B,latentDim] → logits [B,H,W,numClasses]: z tiled over H×W after the image channels. Caller owns it. */
  logits(images: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy('probunet/image2image-vae', () => {
      const [b, h, w] = images.shape;
      // A broadcasting multiply, not tf.tile / tf.broadcastTo (which runs Tile): Tile's gradient is
      // one slice per tiled position, H·W ops, which made training 3× slower on wasm.
      const tiled = tf.mul(tf.reshape(z, [b, 1, 1, this.latentDim]), tf.ones([1, h, w, 1]));
      return this.head.apply(this.unet.apply(tf.concat([images, tiled], 3) as tf.Tensor4D));
    });
  }

  /** The VAE objective: mean per-image cross-entropy under z ~ q(z|x,y) (reparameterised from `seed`) + β·mean KL(q ‖ N(0, I)). */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const [reconstruction, kl] = tf.tidy('probunet/image2image-vae-loss', () => {
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const q = this.posterior.apply(images, tf.sub(oneHot, 0.5) as tf.Tensor4D);
      const standardNormal = { mean: tf.zerosLike(q.mean), logSigma: tf.zerosLike(q.logSigma) };
      return [
        tf.neg(tf.mean(labelLogLikelihood(this.logits(images, sampleGaussian(q, seed)), oneHot))) as tf.Scalar,
        tf.mean(klDiagonalGaussians(q, standardNormal)) as tf.Scalar,
      ];
    });
    const objective = tf.tidy(() => tf.add(reconstruction!, tf.mul(kl!, this.beta)) as tf.Scalar);
    return { objective, terms: { reconstruction: reconstruction!, kl: kl! } };
  }

  /** n samples per image, each from its own z ~ N(0, I) (seeded: same seed, same samples). int32 [B,n,H,W]; caller owns it. */
  sample(images: tf.Tensor4D, n: number, options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = Array.from({ length: n }, () => rng.nextSeed());
    const b = images.shape[0];
    return tf.tidy('probunet/image2image-vae-sample', () => {
      const samples = seeds.map((s) => tf.argMax(this.logits(images, tf.randomNormal([b, this.latentDim], 0, 1, 'float32', s) as tf.Tensor2D), 3));
      return tf.stack(samples, 1) as tf.Tensor4D;
    });
  }

  parameters(): Parameter[] {
    const tag = (prefix: string, ps: Parameter[]) => ps.map((p) => ({ ...p, name: `${prefix}/${p.name}` }));
    return [...tag('unet', this.unet.parameters()), ...tag('posterior', this.posterior.parameters()), ...this.head.parameters('logits')];
  }

  getConfig(): Image2ImageVAEModelConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    this.unet.dispose();
    this.posterior.dispose();
    this.head.dispose();
  }
}
