import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, InputError } from '../errors.js';
import { countParameters, type Parameter } from '../spec/parameter.js';
import type { Encoder, FusionHead, GaussianParams, LatentNet, SampleOptions, SegmentationSampler } from '../spec/components.js';
import { gaussianLogDensity, klDiagonalGaussians, sampleGaussian } from '../ops/gaussian.js';
import { SeededRandom } from '../ops/random.js';
import { labelLogLikelihood, oneHotMasked } from '../ops/loss.js';
import type { ProbUNetModelConfig } from './config.js';
import { FiniteWeightsCheck } from './finite-weights.js';
import { validateParts } from './validate-parts.js';
import { validateCount, validateImages, validateImagesAsync, validateLabels, validateLabelsAsync, type InputSpec } from '../spec/input.js';

export interface ParameterCounts {
  unet: number;
  prior: number;
  posterior: number;
  fusion: number;
  total: number;
}

/** Scalars of one evaluation of −ELBO (without weight decay). */
export interface ElboTerms {
  /** Mean over the batch of the per-image cross-entropy summed over valid pixels. */
  reconstruction: tf.Scalar;
  /** Mean over the batch of KL(q(z|x,y) ‖ p(z|x)). */
  kl: tf.Scalar;
}

export interface ProbUNetSampleOptions extends SampleOptions {
  /**
   * Rerun the U-Net and the prior for every sample instead of once per image (the naive way).
   * Same samples for the same seed; exists for benchmarks that show what sharing saves.
   */
  recomputeFeatures?: boolean;
}

export interface LatentTraversalOptions {
  /** Latent dimensions to walk; default all. */
  dims?: number[];
  /** Points per dimension; default 5. */
  steps?: number;
  /** Walk μ ± range·σ of the prior along each dimension; finite and ≥ 0, default 2. */
  range?: number;
}

export interface LatentTraversal {
  dims: number[];
  /** Offsets in prior standard deviations, length `steps`. */
  offsets: number[];
  /** int32 [dims.length, steps, H, W]. Caller owns it. */
  labels: tf.Tensor4D;
}

export interface AnnotationScore {
  /** Per image: E_q[log p(y|x,z)] − KL(q‖p), in nats (Monte-Carlo over `samples` posterior draws). */
  elbo: number[];
  /** Per image: importance-sampled log p(y|x) with the posterior as proposal; ≥ elbo up to noise. */
  logLikelihood: number[];
  /** Per image: KL(q(z|x,y) ‖ p(z|x)). */
  kl: number[];
}

/**
 * The Probabilistic U-Net: an encoder (U-Net), a prior and a posterior latent net, and a fusion
 * head. Build it with `createProbUNet`; train it with `Trainer`.
 */
export class ProbUNet implements SegmentationSampler {
  readonly kind = 'prob-unet' as const;
  readonly numClasses: number;
  readonly inputChannels: number;
  readonly latentDim: number;
  readonly downsamplingFactor: number;
  readonly beta: number;
  readonly ignoreLabel: number;
  private disposed = false;
  private readonly finiteWeights = new FiniteWeightsCheck(() => this.parameters());

  constructor(
    readonly encoder: Encoder,
    readonly prior: LatentNet,
    readonly posterior: LatentNet,
    readonly fusion: FusionHead,
    options: { beta: number; ignoreLabel: number },
  ) {
    validateParts(encoder, prior, posterior, fusion);
    this.numClasses = fusion.numClasses;
    this.inputChannels = encoder.inputChannels;
    this.latentDim = prior.latentDim;
    this.downsamplingFactor = Math.max(encoder.downsamplingFactor, prior.downsamplingFactor, posterior.downsamplingFactor);
    this.beta = options.beta;
    this.ignoreLabel = options.ignoreLabel;
    const names = new Set<string>();
    for (const p of this.parameters()) {
      if (names.has(p.name)) throw new ConfigError(`two parameters are both named "${p.name}": component parameter names must be unique`);
      names.add(p.name);
    }
  }

  get inputSpec(): InputSpec {
    return {
      channels: this.inputChannels,
      numClasses: this.numClasses,
      ignoreLabel: this.ignoreLabel,
      downsamplingFactor: this.downsamplingFactor,
    };
  }

  /** Every trainable tensor, named `unet/…`, `prior/…`, `posterior/…`, `fusion/…`. */
  parameters(): Parameter[] {
    const tag = (prefix: string, ps: Parameter[]) => ps.map((p) => ({ ...p, name: `${prefix}/${p.name}` }));
    return [
      ...tag('unet', this.encoder.parameters()),
      ...tag('prior', this.prior.parameters()),
      ...tag('posterior', this.posterior.parameters()),
      ...tag('fusion', this.fusion.parameters()),
    ];
  }

  parameterCounts(): ParameterCounts {
    const unet = countParameters(this.encoder.parameters());
    const prior = countParameters(this.prior.parameters());
    const posterior = countParameters(this.posterior.parameters());
    const fusion = countParameters(this.fusion.parameters());
    return { unet, prior, posterior, fusion, total: unet + prior + posterior + fusion };
  }

  getConfig(): ProbUNetModelConfig {
    return {
      format: 'probunet-model',
      version: 1,
      encoder: this.encoder.getConfig(),
      prior: this.prior.getConfig(),
      posterior: this.posterior.getConfig(),
      fusion: this.fusion.getConfig(),
      beta: this.beta,
      ignoreLabel: this.ignoreLabel,
    };
  }

  /** The posterior's extra input: one-hot segmentation − 0.5 (ignore pixels −0.5 everywhere). */
  posteriorCondition(labels: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => tf.sub(oneHotMasked(labels, this.numClasses, this.ignoreLabel), 0.5) as tf.Tensor4D);
  }

  /**
   * The two −ELBO terms for one batch with a reparameterised posterior sample drawn from `seed`.
   * Differentiable; used by `Trainer` inside its gradient tape. Inputs are not validated here.
   */
  elboTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): ElboTerms {
    return tf.tidy('probunet/elbo', () => {
      const features = this.encoder.apply(images);
      const prior = this.prior.apply(images);
      const posterior = this.posterior.apply(images, this.posteriorCondition(labels));
      const z = sampleGaussian(posterior, seed);
      const logits = this.fusion.apply(features, z);
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const reconstruction = tf.neg(tf.mean(labelLogLikelihood(logits, oneHot))) as tf.Scalar;
      const kl = tf.mean(klDiagonalGaussians(posterior, prior)) as tf.Scalar;
      return { reconstruction, kl };
    });
  }

  /** −ELBO = reconstruction + β·KL, with its two parts named; see `elboTerms`. */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const { reconstruction, kl } = this.elboTerms(images, labels, seed);
    const objective = tf.tidy(() => tf.add(reconstruction, tf.mul(kl, this.beta)) as tf.Scalar);
    return { objective, terms: { reconstruction, kl } };
  }

  /**
   * n segmentations per image. The U-Net features and the prior are computed once per image; each
   * sample draws z ~ p(z|x) and reruns only the fusion head.
   * @param images [B,H,W,C] float32
   * @returns int32 [B,n,H,W]; caller owns it.
   */
  sample(images: tf.Tensor4D, n: number, options: ProbUNetSampleOptions = {}): tf.Tensor4D {
    this.assertLive();
    validateImages(images, this.inputSpec);
    this.finiteWeights.assert();
    validateCount(n, 'the number of samples n');
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = Array.from({ length: n }, () => rng.nextSeed());
    return tf.tidy('probunet/sample', () => {
      const samples: tf.Tensor3D[] = [];
      if (options.recomputeFeatures) {
        for (const seed of seeds) {
          const z = sampleGaussian(this.prior.apply(images), seed);
          samples.push(tf.argMax(this.fusion.apply(this.encoder.apply(images), z), 3) as tf.Tensor3D);
        }
        return tf.stack(samples, 1) as tf.Tensor4D;
      }
      const features = this.encoder.apply(images);
      const prior = this.prior.apply(images);
      const prepared = this.fusion.prepare?.(features);
      try {
        for (const seed of seeds) {
          const z = sampleGaussian(prior, seed);
          const logits = prepared ? prepared.apply(z) : this.fusion.apply(features, z);
          samples.push(tf.argMax(logits, 3) as tf.Tensor3D);
        }
      } finally {
        prepared?.dispose();
      }
      return tf.stack(samples, 1) as tf.Tensor4D;
    });
  }

  /** The prior p(z|x) per image. Caller owns the tensors. */
  priorDistribution(images: tf.Tensor4D): GaussianParams {
    this.assertLive();
    validateImages(images, this.inputSpec);
    this.finiteWeights.assert();
    return this.prior.apply(images);
  }

  /** The posterior q(z|x,y) per image. Caller owns the tensors. */
  posteriorDistribution(images: tf.Tensor4D, labels: tf.Tensor3D): GaussianParams {
    this.assertLive();
    validateImages(images, this.inputSpec);
    validateLabels(labels, images, this.inputSpec);
    this.finiteWeights.assert();
    const [mean, logSigma] = tf.tidy(() => {
      const g = this.posterior.apply(images, this.posteriorCondition(labels));
      return [g.mean, g.logSigma];
    }) as [tf.Tensor2D, tf.Tensor2D];
    return { mean, logSigma };
  }

  /**
   * Segmentation from the posterior mean: how well the model can reproduce a given annotation.
   * @returns int32 [B,H,W]; caller owns it.
   */
  reconstruct(images: tf.Tensor4D, labels: tf.Tensor3D): tf.Tensor3D {
    this.assertLive();
    validateImages(images, this.inputSpec);
    validateLabels(labels, images, this.inputSpec);
    this.finiteWeights.assert();
    return tf.tidy('probunet/reconstruct', () => {
      const posterior = this.posterior.apply(images, this.posteriorCondition(labels));
      return tf.argMax(this.fusion.apply(this.encoder.apply(images), posterior.mean), 3) as tf.Tensor3D;
    });
  }

  /**
   * Walks the latent space of one image: for each chosen dimension, z = μ + t·σ·e_d of the prior,
   * t evenly spaced in [−range, range], all other dimensions at the prior mean.
   * @param image [1,H,W,C]
   */
  latentTraversal(image: tf.Tensor4D, options: LatentTraversalOptions = {}): LatentTraversal {
    this.assertLive();
    validateImages(image, this.inputSpec, 'image');
    if (image.shape[0] !== 1) throw new InputError(`latentTraversal takes one image [1,H,W,C], got a batch of ${image.shape[0]}`);
    const dims = options.dims ?? Array.from({ length: this.latentDim }, (_, i) => i);
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0 || d >= this.latentDim) throw new InputError(`latent dimension ${d} is outside 0..${this.latentDim - 1}`);
    }
    const steps = validateCount(options.steps ?? 5, 'steps');
    const range = options.range ?? 2;
    if (typeof range !== 'number' || !(range >= 0) || !Number.isFinite(range)) {
      throw new InputError(`latentTraversal's range must be a finite number ≥ 0 (prior standard deviations), got ${range}; the default is 2`);
    }
    this.finiteWeights.assert();
    const offsets = Array.from({ length: steps }, (_, i) => (steps === 1 ? 0 : -range + (2 * range * i) / (steps - 1)));
    const labels = tf.tidy('probunet/latent-traversal', () => {
      const features = this.encoder.apply(image);
      const prior = this.prior.apply(image);
      // z = μ + t·σ·e_d for each (d, t), built with tensor ops (no synchronous read).
      const offsetRows: number[][] = [];
      for (const d of dims) for (const t of offsets) offsetRows.push(Array.from({ length: this.latentDim }, (_, i) => (i === d ? t : 0)));
      const zs = tf.add(prior.mean, tf.mul(tf.tensor2d(offsetRows, [offsetRows.length, this.latentDim]), tf.exp(prior.logSigma))) as tf.Tensor2D;
      const k = offsetRows.length;
      const tiled = tf.tile(features, [k, 1, 1, 1]);
      const logits = this.fusion.apply(tiled, zs);
      const [, h, w] = image.shape;
      return tf.reshape(tf.argMax(logits, 3), [dims.length, steps, h, w]) as tf.Tensor4D;
    });
    return { dims, offsets, labels };
  }

  /**
   * How plausible an annotation is under the model: per image, the ELBO and an importance-sampled
   * estimate of log p(y|x) = log E_q[p(y|x,z) p(z|x) / q(z|x,y)], with `samples` posterior draws.
   */
  async scoreAnnotation(
    images: tf.Tensor4D,
    labels: tf.Tensor3D,
    options: { samples?: number; seed?: number } = {},
  ): Promise<AnnotationScore> {
    this.assertLive();
    await validateImagesAsync(images, this.inputSpec);
    await validateLabelsAsync(labels, images, this.inputSpec);
    const k = validateCount(options.samples ?? 32, 'samples');
    await this.finiteWeights.assertAsync();
    const rng = new SeededRandom(options.seed ?? 0);
    const [elboT, llT, klT] = tf.tidy('probunet/score', () => {
      const features = this.encoder.apply(images);
      const prior = this.prior.apply(images);
      const posterior = this.posterior.apply(images, this.posteriorCondition(labels));
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const prepared = this.fusion.prepare?.(features);
      const logLiks: tf.Tensor1D[] = [];
      const weights: tf.Tensor1D[] = [];
      try {
        for (let i = 0; i < k; i++) {
          const z = sampleGaussian(posterior, rng.nextSeed());
          const logits = prepared ? prepared.apply(z) : this.fusion.apply(features, z);
          const ll = labelLogLikelihood(logits, oneHot);
          logLiks.push(ll);
          weights.push(tf.add(ll, tf.sub(gaussianLogDensity(prior, z), gaussianLogDensity(posterior, z))) as tf.Tensor1D);
        }
      } finally {
        prepared?.dispose();
      }
      const kl = klDiagonalGaussians(posterior, prior);
      const elbo = tf.sub(tf.mean(tf.stack(logLiks), 0), kl);
      const logLikelihood = tf.sub(tf.logSumExp(tf.stack(weights), 0), Math.log(k));
      return [elbo, logLikelihood, kl];
    });
    try {
      return {
        elbo: Array.from(await elboT.data()),
        logLikelihood: Array.from(await llT.data()),
        kl: Array.from(await klT.data()),
      };
    } finally {
      tf.dispose([elboT, llT, klT]);
    }
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encoder.dispose();
    this.prior.dispose();
    this.posterior.dispose();
    this.fusion.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('this ProbUNet has been disposed: its weights are freed');
  }

}
