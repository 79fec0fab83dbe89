import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, InputError } from '../errors.js';
import { ConvLayer } from './conv-layer.js';
import { SeededRandom } from '../ops/random.js';
import { positiveInt, seedOf } from './options.js';
import type { Parameter } from '../spec/parameter.js';
import type { ComponentConfig, FusionHead, PreparedFusion } from '../spec/components.js';

export interface TileConcatFusionOptions {
  featureChannels: number;
  latentDim: number;
  numClasses: number;
  num1x1Convs: number;
  /** Default 0. */
  seed?: number;
}

export interface TileConcatFusionConfig extends ComponentConfig {
  readonly type: 'tile-concat-1x1';
  readonly featureChannels: number;
  readonly latentDim: number;
  readonly numClasses: number;
  /** Hidden 1×1 convs (to featureChannels, ReLU) before the logits conv. */
  readonly num1x1Convs: number;
  readonly seed: number;
}

/**
 * The authors' f_comb: tile z over H×W, concatenate after the features, `num1x1Convs` ×
 * (1×1 conv + ReLU), then a 1×1 conv to logits.
 *
 * The first conv acts on [features, tiled z]; it is computed as features·W_f + (z·W_z + b)
 * broadcast over H×W, which is the same sum without materialising the tiled tensor. The
 * features·W_f half depends on the image alone, so `prepare` computes it once and each further
 * sample costs only the small per-latent part.
 */
export class TileConcatFusion implements FusionHead {
  readonly kind = 'fusion-head' as const;
  readonly type = 'tile-concat-1x1';
  readonly featureChannels: number;
  readonly latentDim: number;
  readonly numClasses: number;
  private readonly config: TileConcatFusionConfig;
  /** layers[0] acts on the concatenation; the last one produces logits. */
  private readonly layers: ConvLayer[];

  constructor(config: TileConcatFusionOptions) {
    const owner = 'tile-concat-1x1 fusion head';
    positiveInt(owner, 'featureChannels', config.featureChannels);
    positiveInt(owner, 'latentDim', config.latentDim);
    positiveInt(owner, 'numClasses', config.numClasses);
    if (!Number.isInteger(config.num1x1Convs) || config.num1x1Convs < 0) {
      throw new ConfigError(`${owner}: num1x1Convs must be an integer ≥ 0, got ${config.num1x1Convs}`);
    }
    if (config.numClasses < 2) throw new ConfigError(`${owner}: numClasses must be ≥ 2, got ${config.numClasses}`);
    this.config = {
      type: 'tile-concat-1x1',
      featureChannels: config.featureChannels,
      latentDim: config.latentDim,
      numClasses: config.numClasses,
      num1x1Convs: config.num1x1Convs,
      seed: seedOf(config.seed),
    };
    this.featureChannels = config.featureChannels;
    this.latentDim = config.latentDim;
    this.numClasses = config.numClasses;
    const rng = new SeededRandom(this.config.seed);
    this.layers = [];
    let cin = config.featureChannels + config.latentDim;
    for (let i = 0; i <= config.num1x1Convs; i++) {
      const last = i === config.num1x1Convs;
      const cout = last ? config.numClasses : config.featureChannels;
      this.layers.push(
        new ConvLayer({ kernelSize: 1, inputChannels: cin, outputChannels: cout, activation: last ? 'linear' : 'relu', weightDecay: !last, rng }),
      );
      cin = cout;
    }
  }

  apply(features: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy('probunet/fusion', () => this.applyFrom(this.projectFeatures(features), features.shape, z));
  }

  prepare(features: tf.Tensor4D): PreparedFusion {
    const shape = features.shape;
    const projected = tf.tidy('probunet/fusion-prepare', () => this.projectFeatures(features));
    return {
      apply: (z) => tf.tidy('probunet/fusion-latent', () => this.applyFrom(projected, shape, z)),
      dispose: () => projected.dispose(),
    };
  }

  /** features [B,H,W,Cf] → features·W_f as [B, H·W, C1]. */
  private projectFeatures(features: tf.Tensor4D): tf.Tensor3D {
    const [b, h, w, c] = features.shape;
    if (c !== this.featureChannels) {
      throw new InputError(`fusion head expects ${this.featureChannels} feature channels, got ${c}`);
    }
    const first = this.layers[0]!;
    const cout = first.options.outputChannels;
    const wf = tf.reshape(tf.slice(first.kernel, [0, 0, 0, 0], [1, 1, c, cout]), [c, cout]);
    return tf.reshape(tf.matMul(tf.reshape(features, [b * h * w, c]), wf), [b, h * w, cout]);
  }

  private applyFrom(projected: tf.Tensor3D, shape: readonly number[], z: tf.Tensor2D): tf.Tensor4D {
    const [b, h, w] = shape as [number, number, number, number];
    if (z.shape[0] !== b || z.shape[1] !== this.latentDim) {
      throw new InputError(`fusion head expects z of shape [${b}, ${this.latentDim}], got [${z.shape.join(', ')}]`);
    }
    const first = this.layers[0]!;
    const cout = first.options.outputChannels;
    const wz = tf.reshape(tf.slice(first.kernel, [0, 0, this.featureChannels, 0], [1, 1, this.latentDim, cout]), [this.latentDim, cout]);
    const latentTerm = tf.reshape(tf.add(tf.matMul(z, wz), first.bias), [b, 1, cout]);
    let x = tf.reshape<tf.Rank.R4>(tf.add(projected, latentTerm), [b, h, w, cout]);
    if (first.options.activation === 'relu') x = tf.relu(x);
    // The 1×1 convolutions through conv2dSame: its gradient takes the relu and the bias in one
    // fused pass where the backend has one (tf.fused.matMul's records a multiply, a step and a sum).
    for (const layer of this.layers.slice(1)) x = layer.apply(x);
    return x;
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((layer, i) => layer.parameters(i === this.layers.length - 1 ? 'logits' : `conv${i}`));
  }

  getConfig(): TileConcatFusionConfig {
    return { ...this.config };
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}
