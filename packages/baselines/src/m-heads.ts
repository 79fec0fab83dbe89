import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ConvLayer,
  SeededRandom,
  UNetEncoder,
  type CheckpointableModel,
  type InputSpec,
  type Parameter,
  type SampleOptions,
} from '@probunet/core';
import { labelLogLikelihood, oneHotMasked, validateImages } from '@probunet/core/internal';
import { SHORT_FORM_KEYS, checkKnownKeys, positiveInteger, resolveUNetOptions, type UNetOptions, type UNetShortForm } from './model-options.js';

export interface MHeadsConfig extends UNetShortForm {
  type?: 'm-heads';
  /** Number of output heads. Default 4 (the paper's Sec. 4). */
  heads?: number;
  /**
   * ε of the relaxed oracle loss (Rupprecht et al. 2017): the best head's loss weighs 1 − ε, each
   * other head's ε/(M − 1). Default 0: only the best head gets the gradient (the paper's baseline).
   */
  relaxation?: number;
}

/** What `getConfig()` returns: every option filled in. */
export interface MHeadsModelConfig extends UNetOptions {
  type: 'm-heads';
  heads: number;
  relaxation: number;
}

/**
 * The M-Heads baseline (Rupprecht et al. 2017): one U-Net trunk, M 1×1 logits heads, trained with
 * the best-of-M ("oracle", winner-takes-all) loss: per image only the head with the lowest
 * cross-entropy against the annotation gets the gradient, so heads specialise on different modes.
 * Sample i is head (i mod M)'s segmentation.
 */
export class MHeads implements CheckpointableModel {
  readonly kind = 'm-heads' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly trunk: UNetEncoder;
  private readonly heads: ConvLayer[];
  private readonly config: MHeadsModelConfig;

  constructor(config: MHeadsConfig) {
    const type = 'm-heads';
    checkKnownKeys(type, config, [...SHORT_FORM_KEYS, 'heads', 'relaxation']);
    const unet = resolveUNetOptions(type, config);
    const relaxation = config.relaxation ?? 0;
    if (typeof relaxation !== 'number' || !(relaxation >= 0 && relaxation < 1)) {
      throw new ConfigError(`${type}: relaxation must be in [0, 1), got ${JSON.stringify(relaxation)}: e.g. relaxation: 0 (only the best head learns) or 0.05`);
    }
    this.config = { type, ...unet, heads: positiveInteger(type, 'heads', config.heads ?? 4, 4), relaxation };
    this.numClasses = unet.numClasses;
    this.ignoreLabel = unet.ignoreLabel;
    const { inputChannels, channels, convsPerBlock, seed } = unet;
    this.trunk = new UNetEncoder({ inputChannels, channels, convsPerBlock, seed });
    const rng = new SeededRandom(seed + 7);
    this.heads = Array.from(
      { length: this.config.heads },
      () => new ConvLayer({ kernelSize: 1, inputChannels: channels[0]!, outputChannels: unet.numClasses, activation: 'linear', weightDecay: false, rng }),
    );
  }

  get inputSpec(): InputSpec {
    return { channels: this.config.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: this.trunk.downsamplingFactor };
  }

  /** images [B,H,W,C] → one logits tensor [B,H,W,numClasses] per head. Caller owns them. */
  headLogits(images: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy('probunet/m-heads', () => {
      const features = this.trunk.apply(images);
      return this.heads.map((head) => head.apply(features));
    });
  }

  /**
   * The oracle loss: mean over images of min over heads of the per-image cross-entropy. The min
   * routes each image's gradient to its best head only.
   */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, _seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const reconstruction = tf.tidy(() => {
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      const perHead = tf.stack(this.headLogits(images).map((logits) => tf.neg(labelLogLikelihood(logits, oneHot))), 1) as tf.Tensor2D; // [B,M]
      const best = tf.min(perHead, 1);
      const { relaxation: eps, heads: m } = this.config;
      if (eps === 0 || m === 1) return tf.mean(best) as tf.Scalar;
      // (1 − ε)·best + ε/(M − 1)·Σ others = (1 − ε − ε/(M − 1))·best + ε/(M − 1)·Σ all
      const others = eps / (m - 1);
      return tf.mean(tf.add(tf.mul(best, 1 - eps - others), tf.mul(tf.sum(perHead, 1), others))) as tf.Scalar;
    });
    return { objective: reconstruction, terms: { reconstruction: tf.clone(reconstruction) } };
  }

  /** n samples per image: sample i is head (i mod M)'s segmentation. int32 [B,n,H,W]; caller owns it. */
  sample(images: tf.Tensor4D, n: number, _options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    return tf.tidy('probunet/m-heads-sample', () => {
      const answers = this.headLogits(images).map((logits) => tf.argMax(logits, 3));
      return tf.stack(Array.from({ length: n }, (_, i) => answers[i % answers.length]!), 1) as tf.Tensor4D;
    });
  }

  parameters(): Parameter[] {
    return [...this.trunk.parameters().map((p) => ({ ...p, name: `unet/${p.name}` })), ...this.heads.flatMap((h, i) => h.parameters(`head${i}`))];
  }

  getConfig(): MHeadsModelConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    this.trunk.dispose();
    for (const h of this.heads) h.dispose();
  }
}
