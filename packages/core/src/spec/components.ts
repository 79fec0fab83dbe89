import type * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from './parameter.js';

/** JSON that names a registered component `type` and holds everything needed to rebuild it. */
export interface ComponentConfig {
  readonly type: string;
  readonly [option: string]: unknown;
}

interface Component {
  /** The registry name this component was built from. */
  readonly type: string;
  /** Trainable tensors, uniquely named within the component. */
  parameters(): Parameter[];
  /** JSON that rebuilds an identically shaped component through the registry. */
  getConfig(): ComponentConfig;
  /** Frees every variable the component owns. */
  dispose(): void;
}

/**
 * The segmentation backbone (the U-Net): image → feature map at the input resolution.
 * The fusion head turns these features (plus a latent sample) into logits.
 */
export interface Encoder extends Component {
  readonly kind: 'encoder';
  readonly inputChannels: number;
  /** Channels of the feature map `apply` returns. */
  readonly featureChannels: number;
  /** Input H and W must be multiples of this (2^(levels−1) for a U-Net). */
  readonly downsamplingFactor: number;
  /** images [B,H,W,inputChannels] float32 → features [B,H,W,featureChannels]. Caller owns the result. */
  apply(images: tf.Tensor4D): tf.Tensor4D;
}

/** An axis-aligned Gaussian over the latent space, per image. */
export interface GaussianParams {
  /** [B, latentDim] */
  readonly mean: tf.Tensor2D;
  /** [B, latentDim], log of the standard deviation, already bounded by the latent net. */
  readonly logSigma: tf.Tensor2D;
}

/**
 * Prior p(z|x) (conditionChannels = 0) or posterior q(z|x,y) (conditionChannels = numClasses):
 * image, optionally concatenated with a condition, → axis-aligned Gaussian.
 */
export interface LatentNet extends Component {
  readonly kind: 'latent-net';
  readonly imageChannels: number;
  /** Extra input channels concatenated after the image (the one-hot segmentation for a posterior). */
  readonly conditionChannels: number;
  readonly latentDim: number;
  readonly downsamplingFactor: number;
  /**
   * images [B,H,W,imageChannels] and, when conditionChannels > 0, condition [B,H,W,conditionChannels]
   * → Gaussian parameters [B,latentDim]. Caller owns the results.
   */
  apply(images: tf.Tensor4D, condition?: tf.Tensor4D): GaussianParams;
}

/** Latent-only evaluation of a fusion head whose feature-dependent part was computed once. */
export interface PreparedFusion {
  /** z [B,latentDim] → logits [B,H,W,numClasses]. Caller owns the result. */
  apply(z: tf.Tensor2D): tf.Tensor4D;
  dispose(): void;
}

/** f_comb: features + latent sample → logits. */
export interface FusionHead extends Component {
  readonly kind: 'fusion-head';
  readonly featureChannels: number;
  readonly latentDim: number;
  readonly numClasses: number;
  /** features [B,H,W,featureChannels], z [B,latentDim] → logits [B,H,W,numClasses]. Caller owns the result. */
  apply(features: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D;
  /**
   * Optional: precompute everything that depends on the features alone, so that each further
   * sample costs only the latent-dependent part. Samplers use it when present.
   */
  prepare?(features: tf.Tensor4D): PreparedFusion;
}

export interface SampleOptions {
  /** Seed of the latent draws (or dropout masks, for baselines); same seed, same samples. */
  seed?: number;
}

/**
 * Anything that answers "give me n segmentations of these images": the Prob. U-Net and every baseline.
 */
export interface SegmentationSampler {
  readonly numClasses: number;
  /**
   * images [B,H,W,C] float32 → int32 label maps [B,n,H,W] (argmax of each sample's logits).
   * Caller owns the result.
   */
  sample(images: tf.Tensor4D, n: number, options?: SampleOptions): tf.Tensor4D;
  dispose(): void;
}
