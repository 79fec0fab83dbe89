import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer, SeededRandom, UNetEncoder, type CheckpointableModel, type InputSpec, type Parameter, type SampleOptions } from '@probunet/core';
import { oneHotMasked, randomStandardNormal, validateImages } from '@probunet/core/internal';
import { logitDeviations, monteCarloLogLikelihood, type LowRankLogits } from './low-rank-logits.js';
import { resolveSSNConfig, type SSNConfig, type SSNModelConfig } from './ssn-options.js';

/**
 * Stochastic Segmentation Networks (Monteiro et al., NeurIPS 2020): the U-Net's features go through
 * three 1×1 convs that give, per pixel and class, the logit mean μ, log D and a rank-r factor P of
 * one Gaussian over all H·W·K logits of the image, η ~ N(μ, PPᵀ + diag(D)). Trained on the
 * Monte-Carlo estimate −log (1/M) Σ_m p(y | η_m) (log-sum-exp over M reparameterised draws,
 * antithetic pairs by default); sampled by running the U-Net once and drawing logits.
 */
export class StochasticSegmentationNetwork implements CheckpointableModel {
  readonly kind = 'ssn' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly rank: number;
  readonly unet: UNetEncoder;
  private readonly meanHead: ConvLayer;
  private readonly logDiagonalHead: ConvLayer;
  private readonly factorHead: ConvLayer;
  private readonly config: SSNModelConfig;

  constructor(config: SSNConfig) {
    this.config = resolveSSNConfig(config);
    const { inputChannels, channels, convsPerBlock, seed, numClasses, rank } = this.config;
    this.numClasses = numClasses;
    this.ignoreLabel = this.config.ignoreLabel;
    this.rank = rank;
    this.unet = new UNetEncoder({ inputChannels, channels, convsPerBlock, seed });
    const head = (outputChannels: number, offset: number) =>
      new ConvLayer({ kernelSize: 1, inputChannels: channels[0]!, outputChannels, activation: 'linear', weightDecay: false, rng: new SeededRandom(seed + offset) });
    this.meanHead = head(numClasses, 7);
    this.logDiagonalHead = head(numClasses, 8);
    // Channel k·r + ρ is P[·,·,k,ρ], so that [B,H,W,K·r] reshapes to [B,H·W·K,r] with no transpose.
    this.factorHead = head(numClasses * rank, 9);
  }

  get inputSpec(): InputSpec {
    return { channels: this.config.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: this.unet.downsamplingFactor };
  }

  /**
   * images [B,H,W,C] → the Gaussian over their logits; D = exp(log D) + diagonalEpsilon (the authors'
   * `cov_diag`). Caller owns the three tensors.
   */
  distribution(images: tf.Tensor4D): LowRankLogits {
    return tf.tidy('probunet/ssn', () => {
      const features = this.unet.apply(images);
      const [b, h, w] = features.shape;
      return {
        mean: this.meanHead.apply(features),
        diagonal: tf.add(tf.exp(this.logDiagonalHead.apply(features)), this.config.diagonalEpsilon) as tf.Tensor4D,
        factor: tf.reshape(this.factorHead.apply(features), [b, h, w, this.numClasses, this.rank]) as tf.Tensor5D,
      };
    });
  }

  /** The SSN objective: mean over images of −log (1/M) Σ_m p(y | η_m), the draws seeded by `seed`. */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const objective = tf.tidy('probunet/ssn-loss', () => {
      const dist = this.distribution(images);
      const [b, h, w, k] = dist.mean.shape;
      const { mcSamples, antithetic } = this.config;
      const s = antithetic ? mcSamples / 2 : mcSamples;
      const rng = new SeededRandom(seed);
      const factorNoise = randomStandardNormal([b, s, this.rank], rng.nextSeed()) as tf.Tensor3D;
      const diagonalNoise = randomStandardNormal([b, s, h, w, k], rng.nextSeed()) as tf.Tensor5D;
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const deviations = logitDeviations(dist, factorNoise, diagonalNoise);
      return tf.neg(tf.mean(monteCarloLogLikelihood(dist.mean, deviations, oneHot, antithetic))) as tf.Scalar;
    });
    return { objective, terms: { reconstruction: tf.clone(objective) } };
  }

  /**
   * n segmentations per image: the U-Net runs once, then each sample draws η ~ N(μ, PPᵀ + diag(D +
   * sampleDiagonalEpsilon)) and takes the argmax (seeded: same seed, same samples). int32 [B,n,H,W]; caller owns it.
   */
  sample(images: tf.Tensor4D, n: number, options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
    return tf.tidy('probunet/ssn-sample', () => {
      const dist = this.distribution(images);
      const [b, h, w, k] = dist.mean.shape;
      const widened = { ...dist, diagonal: tf.add(dist.diagonal, this.config.sampleDiagonalEpsilon) as tf.Tensor4D };
      const samples: tf.Tensor3D[] = [];
      for (let i = 0; i < n; i++) {
        // One draw at a time: a [B,n,H,W,K] block of logits would hold n times the memory.
        samples.push(
          tf.tidy(() => {
            const factorNoise = randomStandardNormal([b, 1, this.rank], rng.nextSeed()) as tf.Tensor3D;
            const diagonalNoise = randomStandardNormal([b, 1, h, w, k], rng.nextSeed()) as tf.Tensor5D;
            const logits = tf.add(dist.mean, tf.squeeze(logitDeviations(widened, factorNoise, diagonalNoise), [1]));
            return tf.argMax(logits, 3) as tf.Tensor3D;
          }),
        );
      }
      return tf.stack(samples, 1) as tf.Tensor4D;
    });
  }

  parameters(): Parameter[] {
    const unet = this.unet.parameters().map((p) => ({ ...p, name: `unet/${p.name}` }));
    return [...unet, ...this.meanHead.parameters('mean'), ...this.logDiagonalHead.parameters('logDiagonal'), ...this.factorHead.parameters('factor')];
  }

  getConfig(): SSNModelConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    this.unet.dispose();
    this.meanHead.dispose();
    this.logDiagonalHead.dispose();
    this.factorHead.dispose();
  }
}
