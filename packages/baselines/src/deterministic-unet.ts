import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ConvLayer,
  SeededRandom,
  createRegistry,
  type CheckpointableModel,
  type ComponentConfig,
  type Encoder,
  type InputSpec,
  type Parameter,
  type Registry,
  type SampleOptions,
  type SegmentationSampler,
  type TrainableModel,
} from '@probunet/core';
import { labelLogLikelihood, oneHotMasked, validateImages } from '@probunet/core/internal';

export interface DeterministicUNetConfig {
  type?: 'deterministic-unet';
  /** Any registered encoder config, e.g. `{ type: 'unet', inputChannels, channels, convsPerBlock, seed }`. */
  encoder: ComponentConfig;
  numClasses: number;
  /** Default 255. */
  ignoreLabel?: number;
  /** Seed of the logits conv's initialisation (the encoder has its own). Default 0. */
  seed?: number;
}

/** What `getConfig()` returns: every option filled in. */
export interface DeterministicUNetModelConfig extends DeterministicUNetConfig {
  type: 'deterministic-unet';
  ignoreLabel: number;
  seed: number;
}

/**
 * The paper's first baseline: a U-Net with a 1×1 logits conv, trained with the same per-image
 * cross-entropy. It has one answer per image: `sample(images, n)` returns it n times.
 */
export class DeterministicUNet implements SegmentationSampler, TrainableModel, CheckpointableModel {
  readonly kind = 'deterministic-unet' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly encoder: Encoder;
  private readonly head: ConvLayer;
  private readonly config: DeterministicUNetModelConfig;

  constructor(config: DeterministicUNetConfig, registry: Registry = createRegistry()) {
    if (!Number.isInteger(config.numClasses) || config.numClasses < 2) {
      throw new ConfigError(`deterministic-unet: numClasses must be an integer ≥ 2, got ${JSON.stringify(config.numClasses)}: e.g. numClasses: 2`);
    }
    this.config = { type: 'deterministic-unet', encoder: config.encoder, numClasses: config.numClasses, ignoreLabel: config.ignoreLabel ?? 255, seed: config.seed ?? 0 };
    this.numClasses = config.numClasses;
    this.ignoreLabel = this.config.ignoreLabel;
    this.encoder = registry.createEncoder(config.encoder);
    this.head = new ConvLayer({
      kernelSize: 1,
      inputChannels: this.encoder.featureChannels,
      outputChannels: config.numClasses,
      activation: 'linear',
      weightDecay: false,
      rng: new SeededRandom((config.seed ?? 0) + 7),
    });
  }

  get inputSpec(): InputSpec {
    return { channels: this.encoder.inputChannels, numClasses: this.numClasses, ignoreLabel: this.ignoreLabel, downsamplingFactor: this.encoder.downsamplingFactor };
  }

  /** images [B,H,W,C] → logits [B,H,W,numClasses]. Caller owns the result. */
  logits(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy('probunet/deterministic-unet', () => this.head.apply(this.encoder.apply(images)));
  }

  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const reconstruction = tf.tidy(() => {
      const oneHot = oneHotMasked(labels, this.numClasses, this.ignoreLabel);
      return tf.neg(tf.mean(labelLogLikelihood(this.logits(images), oneHot))) as tf.Scalar;
    });
    return { objective: reconstruction, terms: { reconstruction: tf.clone(reconstruction) } };
  }

  sample(images: tf.Tensor4D, n: number, _options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    return tf.tidy(() => {
      const labels = tf.argMax(this.logits(images), 3);
      return tf.stack(Array.from({ length: n }, () => labels), 1) as tf.Tensor4D;
    });
  }

  parameters(): Parameter[] {
    const tag = (prefix: string, ps: Parameter[]) => ps.map((p) => ({ ...p, name: `${prefix}/${p.name}` }));
    return [...tag('unet', this.encoder.parameters()), ...this.head.parameters('logits')];
  }

  getConfig(): DeterministicUNetModelConfig {
    return { ...this.config, encoder: this.encoder.getConfig() };
  }

  dispose(): void {
    this.encoder.dispose();
    this.head.dispose();
  }
}
