import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer, DisposedError, InputError, SeededRandom, type CheckpointableModel, type InputSpec, type Parameter, type SampleOptions } from '@probunet/core';
import { klDiagonalGaussians, labelLogLikelihood, oneHotMasked, validateImages, validateLabels } from '@probunet/core/internal';
import { HIERARCHICAL_TYPE, resolveHierarchicalConfig, type HierarchicalProbUNetConfig, type HierarchicalProbUNetModelConfig } from './config.js';
import { LagrangeMultiplier } from './geco.js';
import { HierarchicalCore, type LevelGaussian } from './hierarchical-core.js';
import { topKMask } from './top-k-mask.js';

export interface HierarchicalSampleOptions extends SampleOptions {
  /**
   * Latent levels (0 = coarsest) whose noise is drawn once and shared by all n samples of an image;
   * the other levels are drawn per sample. `[0]` fixes the coarse z and resamples the finer ones.
   */
  sharedLevels?: number[];
}

/** Per latent level (coarsest first): the posterior q(z_l | z_<l, x, y) and the prior p(z_l | z_<l, x) given the posterior's z_<l. Caller owns the tensors. */
export interface LevelDistributions {
  posterior: LevelGaussian[];
  prior: LevelGaussian[];
}

/**
 * KL(q ‖ p) of one latent level per image: summed over the level's pixels and channels. [B]
 * (core's analytic diagonal-Gaussian KL on the flattened level).
 */
export function levelKl(q: LevelGaussian, p: LevelGaussian): tf.Tensor1D {
  return tf.tidy(() => {
    const b = q.mean.shape[0];
    const flat = (t: tf.Tensor4D) => tf.reshape(t, [b, -1]) as tf.Tensor2D;
    return klDiagonalGaussians({ mean: flat(q.mean), logSigma: flat(q.logSigma) }, { mean: flat(p.mean), logSigma: flat(p.logSigma) });
  });
}

const reparameterise = (g: LevelGaussian, seed: number) => tf.add(g.mean, tf.mul(tf.exp(g.logSigma), tf.randomNormal(g.mean.shape, 0, 1, 'float32', seed))) as tf.Tensor4D;

/**
 * The Hierarchical Probabilistic U-Net (Kohl et al. 2019): per-pixel latents at the coarsest
 * decoder scales. The prior net is a U-Net whose decoder draws z_l ~ p(z_l | z_<l, x) at each latent
 * scale and concatenates it to its features; the posterior net, on the image and the one-hot
 * segmentation − 0.5, does the same up to its last latent scale. Training feeds the posterior's z's
 * to the prior's decoder, and the logits (a 1×1 conv on the prior's finest features) score the
 * annotation: −ELBO = CE + β·Σ_l KL_l, or GECO's λ·(CE − κ·pixels) + Σ_l KL_l.
 */
export class HierarchicalProbUNet implements CheckpointableModel {
  readonly kind = HIERARCHICAL_TYPE;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly latentDims: readonly number[];
  readonly prior: HierarchicalCore;
  readonly posterior: HierarchicalCore;
  /** GECO's λ; undefined under the ELBO. */
  readonly lagrangeMultiplier: LagrangeMultiplier | undefined;
  private readonly logits: ConvLayer;
  private readonly config: HierarchicalProbUNetModelConfig;
  private disposed = false;

  constructor(config: HierarchicalProbUNetConfig) {
    this.config = resolveHierarchicalConfig(config);
    const { inputChannels, numClasses, channels, convsPerBlock, seed, latentDims, logSigmaBound } = this.config;
    this.numClasses = numClasses;
    this.ignoreLabel = this.config.ignoreLabel;
    this.latentDims = [...latentDims];
    const shared = { channels, convsPerBlock, latentDims, logSigmaBound };
    this.prior = new HierarchicalCore({ ...shared, inputChannels, seed: seed + 1, decoder: 'full' });
    this.posterior = new HierarchicalCore({ ...shared, inputChannels: inputChannels + numClasses, seed: seed + 2, decoder: 'latents' });
    this.logits = new ConvLayer({ kernelSize: 1, inputChannels: channels[0]!, outputChannels: numClasses, activation: 'linear', weightDecay: false, rng: new SeededRandom(seed + 3) });
    this.lagrangeMultiplier = this.config.objective === 'geco' ? new LagrangeMultiplier(this.config.gecoRate) : undefined;
  }

  get inputSpec(): InputSpec {
    return { channels: this.config.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: 2 ** (this.config.channels.length - 1) };
  }

  /**
   * The objective and its parts: `reconstruction` (mean per-image CE summed over valid pixels, or
   * over the top-k mask's pixels when `topKPercentage` is set),
   * `kl0`, `kl1`, … (level 0 the coarsest; mean per-image KL), `kl` (their sum); under GECO also
   * `lagrangeMultiplier` (λ's value, for the log). Posterior noise is drawn from `seed`.
   */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    this.assertLive();
    return tf.tidy('probunet/hierarchical-loss', () => {
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const { posterior, prior, features, maskSeed } = this.forward(images, oneHot, seed);
      const logits = this.logits.apply(features);
      let reconstruction: tf.Scalar;
      let validPixels: tf.Scalar; // mean per image of the pixels the reconstruction counts
      const share = this.config.topKPercentage;
      if (share === null) {
        reconstruction = tf.neg(tf.mean(labelLogLikelihood(logits, oneHot))) as tf.Scalar;
        validPixels = tf.mean(tf.sum(oneHot, [1, 2, 3])) as tf.Scalar;
      } else {
        const crossEntropy = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 3)) as tf.Tensor3D;
        const mask = topKMask(crossEntropy, tf.sum(oneHot, 3) as tf.Tensor3D, share, maskSeed);
        reconstruction = tf.mean(tf.sum(tf.mul(crossEntropy, mask), [1, 2])) as tf.Scalar;
        validPixels = tf.mean(tf.sum(mask, [1, 2])) as tf.Scalar;
      }
      const kls = posterior.map((q, l) => tf.mean(levelKl(q, prior[l]!)) as tf.Scalar);
      const kl = tf.addN(kls) as tf.Scalar;
      const terms: Record<string, tf.Scalar> = { reconstruction };
      kls.forEach((k, l) => (terms[`kl${l}`] = k));
      terms.kl = kl;
      if (!this.lagrangeMultiplier) return { objective: tf.add(reconstruction, tf.mul(kl, this.config.beta)) as tf.Scalar, terms };
      // The constraint CE − κ·(mean valid pixels per image): a batch mean, so averaging workers' gradients is exact.
      const constraint = tf.sub(reconstruction, tf.mul(validPixels, this.config.gecoKappa));
      const lambda = this.lagrangeMultiplier.value();
      terms.lagrangeMultiplier = tf.clone(this.lagrangeMultiplier.variable);
      return { objective: tf.add(tf.mul(lambda, constraint), kl) as tf.Scalar, terms };
    });
  }

  /** Each level's posterior and prior (the prior given the posterior's z_<l drawn from `seed`), as `lossTerms` sees them. */
  levelDistributions(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): LevelDistributions {
    this.assertLive();
    validateImages(images, this.inputSpec);
    validateLabels(labels, images, this.inputSpec);
    // tf.tidy keeps the tensors of a nested result; its TensorContainer type does not name interfaces.
    return tf.tidy(() => {
      const { posterior, prior } = this.forward(images, oneHotMasked(labels, this.numClasses, this.ignoreLabel), seed);
      return { posterior, prior } as unknown as tf.TensorContainer;
    }) as unknown as LevelDistributions;
  }

  /**
   * n segmentations per image: the prior's down path once per image, then per sample the prior
   * chain z_l ~ p(z_l | z_<l, x) and the decoder above it. Seeded: same seed, same samples.
   * @returns int32 [B,n,H,W]; caller owns it.
   */
  sample(images: tf.Tensor4D, n: number, options: HierarchicalSampleOptions = {}): tf.Tensor4D {
    this.assertLive();
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    const shared = options.sharedLevels ?? [];
    for (const l of shared) {
      if (!Number.isInteger(l) || l < 0 || l >= this.latentDims.length) {
        throw new InputError(`sharedLevels: level ${l} is not a latent level of this model (0..${this.latentDims.length - 1}, 0 the coarsest)`);
      }
    }
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = Array.from({ length: n }, () => this.latentDims.map(() => rng.nextSeed()));
    for (const row of seeds) for (const l of shared) row[l] = seeds[0]![l]!;
    return tf.tidy('probunet/hierarchical-sample', () => {
      const skips = this.prior.encode(images);
      const samples = seeds.map((row) =>
        tf.tidy(() => {
          const { features } = this.prior.decode(skips, (l, g) => reparameterise(g, row[l]!));
          return tf.argMax(this.logits.apply(features!), 3) as tf.Tensor3D;
        }),
      );
      return tf.stack(samples, 1) as tf.Tensor4D;
    });
  }

  /**
   * Segmentation from the posterior means at every level (the posterior's own chain on its means,
   * then the prior's decoder on them): how well the model reproduces a given annotation.
   * @returns int32 [B,H,W]; caller owns it.
   */
  reconstruct(images: tf.Tensor4D, labels: tf.Tensor3D): tf.Tensor3D {
    this.assertLive();
    validateImages(images, this.inputSpec);
    validateLabels(labels, images, this.inputSpec);
    return tf.tidy('probunet/hierarchical-reconstruct', () => {
      const condition = tf.sub(oneHotMasked(labels, this.numClasses, this.ignoreLabel), 0.5);
      const q = this.posterior.decode(this.posterior.encode(tf.concat([images, condition], 3) as tf.Tensor4D), (_, g) => g.mean);
      const { features } = this.prior.decode(this.prior.encode(images), (l) => q.latents[l]!);
      return tf.argMax(this.logits.apply(features!), 3) as tf.Tensor3D;
    });
  }

  /** Every trainable tensor: `prior/…`, `posterior/…`, `logits/…`, and under GECO `geco/lagrangeMultiplier`. */
  parameters(): Parameter[] {
    const tag = (prefix: string, ps: Parameter[]) => ps.map((p) => ({ ...p, name: `${prefix}/${p.name}` }));
    return [
      ...tag('prior', this.prior.parameters()),
      ...tag('posterior', this.posterior.parameters()),
      ...this.logits.parameters('logits'),
      ...(this.lagrangeMultiplier?.parameters('geco') ?? []),
    ];
  }

  getConfig(): HierarchicalProbUNetModelConfig {
    return { ...this.config, channels: [...this.config.channels], latentDims: [...this.config.latentDims] };
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.prior.dispose();
    this.posterior.dispose();
    this.logits.dispose();
    this.lagrangeMultiplier?.dispose();
  }

  /** The posterior chain on (x, one-hot y − 0.5) with z_l drawn from `seed`, then the prior's decoder on those z's. Inside a tidy. */
  private forward(images: tf.Tensor4D, oneHot: tf.Tensor4D, seed: number): LevelDistributions & { features: tf.Tensor4D; maskSeed: number } {
    const rng = new SeededRandom(seed);
    const seeds = this.latentDims.map(() => rng.nextSeed());
    const maskSeed = rng.nextSeed(); // after the levels' seeds, so that top-k leaves the latents' noise as it was
    const q = this.posterior.decode(this.posterior.encode(tf.concat([images, tf.sub(oneHot, 0.5)], 3) as tf.Tensor4D), (l, g) => reparameterise(g, seeds[l]!));
    const p = this.prior.decode(this.prior.encode(images), (l) => q.latents[l]!);
    return { posterior: q.distributions, prior: p.distributions, features: p.features!, maskSeed };
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('this HierarchicalProbUNet has been disposed: its weights are freed');
  }
}
