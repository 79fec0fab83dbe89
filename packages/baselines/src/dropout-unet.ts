import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ConvLayer,
  DownPath,
  SeededRandom,
  type CheckpointableModel,
  type InputSpec,
  type Parameter,
  type SampleOptions,
} from '@probunet/core';
import { labelLogLikelihood, oneHotMasked, validateImages } from '@probunet/core/internal';
import { SHORT_FORM_KEYS, checkKnownKeys, resolveUNetOptions, type UNetOptions, type UNetShortForm } from './model-options.js';

export interface DropoutUNetConfig extends UNetShortForm {
  type?: 'dropout-unet';
  /** Dropout rate (fraction of units zeroed), in [0, 1). Default 0.5 (Bayesian SegNet, Kendall et al. 2017). */
  rate?: number;
  /**
   * Encoder blocks (0 = finest) whose output is dropped out. Default the inner-most one,
   * channels.length − 1 (the bottleneck).
   */
  encoderBlocks?: number[];
  /**
   * Decoder blocks (index of the level they produce, 0 = finest) whose output is dropped out.
   * Default the inner-most one, channels.length − 2 (none for a one-level U-Net).
   */
  decoderBlocks?: number[];
}

/** What `getConfig()` returns: every option filled in. */
export interface DropoutUNetModelConfig extends UNetOptions {
  type: 'dropout-unet';
  rate: number;
  encoderBlocks: number[];
  decoderBlocks: number[];
}

const KEYS = [...SHORT_FORM_KEYS, 'rate', 'encoderBlocks', 'decoderBlocks'];

/**
 * The Dropout U-Net baseline (Monte-Carlo dropout, Bayesian-SegNet style): the authors' U-Net with
 * dropout after the chosen (by default the inner-most) encoder and decoder blocks, on in training
 * and kept on at sampling time. Each sample is one dropout mask; masks come from the seed.
 */
export class DropoutUNet implements CheckpointableModel {
  readonly kind = 'dropout-unet' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  private readonly config: DropoutUNetModelConfig;
  private readonly down: DownPath;
  /** up[i] produces level i from [resize(level i+1), skip i]. */
  private readonly up: ConvLayer[][] = [];
  private readonly head: ConvLayer;

  constructor(config: DropoutUNetConfig) {
    const type = 'dropout-unet';
    checkKnownKeys(type, config, KEYS);
    const unet = resolveUNetOptions(type, config);
    const levels = unet.channels.length;
    const rate = config.rate ?? 0.5;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ConfigError(`${type}: rate must be in [0, 1), got ${JSON.stringify(rate)}: e.g. rate: 0.5`);
    const blocks = (name: string, value: unknown, count: number): number[] => {
      if (!Array.isArray(value) || !value.every((b) => Number.isInteger(b) && b >= 0 && b < count)) {
        throw new ConfigError(`${type}: ${name} must list block indices in 0..${count - 1} (0 = finest), got ${JSON.stringify(value)}: e.g. ${name}: [${Math.max(0, count - 1)}]`);
      }
      return [...new Set(value as number[])].sort((a, b) => a - b);
    };
    this.config = {
      type,
      ...unet,
      rate,
      encoderBlocks: blocks('encoderBlocks', config.encoderBlocks ?? [levels - 1], levels),
      decoderBlocks: blocks('decoderBlocks', config.decoderBlocks ?? (levels > 1 ? [levels - 2] : []), levels - 1),
    };
    this.numClasses = unet.numClasses;
    this.ignoreLabel = unet.ignoreLabel;
    const rng = new SeededRandom(unet.seed);
    const { channels, convsPerBlock } = unet;
    this.down = new DownPath(unet.inputChannels, channels, convsPerBlock, rng);
    for (let i = levels - 2; i >= 0; i--) {
      let cin = channels[i + 1]! + channels[i]!;
      const block: ConvLayer[] = [];
      for (let j = 0; j < convsPerBlock; j++) {
        block.push(new ConvLayer({ kernelSize: 3, inputChannels: cin, outputChannels: channels[i]!, activation: 'relu', weightDecay: true, rng }));
        cin = channels[i]!;
      }
      this.up[i] = block;
    }
    this.head = new ConvLayer({ kernelSize: 1, inputChannels: channels[0]!, outputChannels: unet.numClasses, activation: 'linear', weightDecay: false, rng });
  }

  get inputSpec(): InputSpec {
    return { channels: this.config.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: 2 ** (this.config.channels.length - 1) };
  }

  /** images [B,H,W,C] → logits [B,H,W,numClasses] under the dropout masks drawn from `seed`. Caller owns the result. */
  logits(images: tf.Tensor4D, seed: number): tf.Tensor4D {
    const rng = new SeededRandom(seed);
    const { rate, encoderBlocks, decoderBlocks } = this.config;
    const drop = (h: tf.Tensor4D, on: boolean) => (on && rate > 0 ? (tf.dropout(h, rate, undefined, rng.nextSeed()) as tf.Tensor4D) : h);
    return tf.tidy('probunet/dropout-unet', () => {
      const skips: tf.Tensor4D[] = [];
      let h = images;
      this.down.levels.forEach((block, i) => {
        if (i > 0) h = tf.avgPool(h, 2, 2, 'same');
        for (const layer of block) h = layer.apply(h);
        h = drop(h, encoderBlocks.includes(i));
        skips.push(h);
      });
      for (let i = skips.length - 2; i >= 0; i--) {
        const skip = skips[i]!;
        h = tf.concat([tf.image.resizeBilinear(h, [skip.shape[1], skip.shape[2]], true), skip], 3);
        for (const layer of this.up[i]!) h = layer.apply(h);
        h = drop(h, decoderBlocks.includes(i));
      }
      return this.head.apply(h);
    });
  }

  /** Mean over the batch of the per-image cross-entropy, under the dropout mask of `seed`. */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const reconstruction = tf.tidy(() => {
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      return tf.neg(tf.mean(labelLogLikelihood(this.logits(images, seed), oneHot))) as tf.Scalar;
    });
    return { objective: reconstruction, terms: { reconstruction: tf.clone(reconstruction) } };
  }

  /** n samples per image, one dropout mask each (seeded: same seed, same samples). int32 [B,n,H,W]; caller owns it. */
  sample(images: tf.Tensor4D, n: number, options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    const rng = new SeededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
    const seeds = Array.from({ length: n }, () => rng.nextSeed());
    return tf.tidy('probunet/dropout-unet-sample', () => tf.stack(seeds.map((s) => tf.argMax(this.logits(images, s), 3)), 1) as tf.Tensor4D);
  }

  parameters(): Parameter[] {
    const ups = this.up.flatMap((block, i) => block.flatMap((layer, j) => layer.parameters(`unet/up${i}/conv${j}`)));
    return [...this.down.parameters('unet/down'), ...ups, ...this.head.parameters('logits')];
  }

  getConfig(): DropoutUNetModelConfig {
    const c = this.config;
    return { ...c, channels: [...c.channels], encoderBlocks: [...c.encoderBlocks], decoderBlocks: [...c.decoderBlocks] };
  }

  dispose(): void {
    this.down.dispose();
    for (const block of this.up) for (const layer of block ?? []) layer.dispose();
    this.head.dispose();
  }
}
