import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer } from './conv-layer.js';
import { SeededRandom } from '../ops/random.js';
import { DownPath } from './down-path.js';
import { checkChannels, positiveInt, seedOf } from './options.js';
import type { Parameter } from '../spec/parameter.js';
import type { ComponentConfig, Encoder } from '../spec/components.js';

export interface UNetEncoderOptions {
  inputChannels: number;
  /** Feature channels per level, finest first. */
  channels: readonly number[];
  convsPerBlock: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
}

export interface UNetEncoderConfig extends ComponentConfig {
  readonly type: 'unet';
  readonly inputChannels: number;
  /** Feature channels per level, finest first; the decoder ends with channels[0] features. */
  readonly channels: readonly number[];
  readonly convsPerBlock: number;
  /** Seed of the weight initialisation. */
  readonly seed: number;
}

/**
 * The U-Net of the authors' code: the down path, then per level (coarsest first) a bilinear
 * align-corners resize of the lower level to the skip's size, concat [upsampled, skip], and
 * `convsPerBlock` × (3×3 conv + ReLU). Returns channels[0] features (no logits layer).
 */
export class UNetEncoder implements Encoder {
  readonly kind = 'encoder' as const;
  readonly type = 'unet';
  readonly inputChannels: number;
  readonly featureChannels: number;
  readonly downsamplingFactor: number;
  private readonly config: UNetEncoderConfig;
  private readonly down: DownPath;
  /** up[i] produces level i from [resize(level i+1), skip i]; up[channels.length − 1] is unused. */
  private readonly up: ConvLayer[][];

  constructor(config: UNetEncoderOptions) {
    checkChannels('unet encoder', config.channels, config.convsPerBlock);
    positiveInt('unet encoder', 'inputChannels', config.inputChannels);
    this.config = {
      type: 'unet',
      inputChannels: config.inputChannels,
      channels: [...config.channels],
      convsPerBlock: config.convsPerBlock,
      seed: seedOf(config.seed),
    };
    const { channels, convsPerBlock } = this.config;
    const rng = new SeededRandom(this.config.seed);
    this.inputChannels = config.inputChannels;
    this.featureChannels = channels[0]!;
    this.downsamplingFactor = 2 ** (channels.length - 1);
    this.down = new DownPath(config.inputChannels, channels, convsPerBlock, rng);
    this.up = [];
    for (let i = channels.length - 2; i >= 0; i--) {
      let cin = channels[i + 1]! + channels[i]!;
      const block: ConvLayer[] = [];
      for (let j = 0; j < convsPerBlock; j++) {
        block.push(
          new ConvLayer({ kernelSize: 3, inputChannels: cin, outputChannels: channels[i]!, activation: 'relu', weightDecay: true, rng }),
        );
        cin = channels[i]!;
      }
      this.up[i] = block;
    }
  }

  apply(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy('probunet/unet', () => {
      const skips = this.down.apply(images);
      let h = skips[skips.length - 1]!;
      for (let i = skips.length - 2; i >= 0; i--) {
        const skip = skips[i]!;
        const upsampled = tf.image.resizeBilinear(h, [skip.shape[1], skip.shape[2]], true);
        h = tf.concat([upsampled, skip], 3);
        for (const layer of this.up[i]!) h = layer.apply(h);
      }
      return h;
    });
  }

  parameters(): Parameter[] {
    const ups = this.up.flatMap((block, i) => block.flatMap((layer, j) => layer.parameters(`up${i}/conv${j}`)));
    return [...this.down.parameters('down'), ...ups];
  }

  getConfig(): UNetEncoderConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    this.down.dispose();
    for (const block of this.up) for (const layer of block ?? []) layer.dispose();
  }
}
