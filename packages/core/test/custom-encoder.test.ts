import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  ConvLayer,
  ConfigError,
  SeededRandom,
  Trainer,
  corePlugin,
  createProbUNet,
  createRegistry,
  type ComponentConfig,
  type Encoder,
  type Parameter,
  type ProbUNetPlugin,
} from '../src/index.js';
import {
  describeEncoderContract,
  describeFusionHeadContract,
  describeLatentNetContract,
} from '../src/testing/index.js';
import { ConvGaussian, TileConcatFusion, UNetEncoder } from '../src/index.js';

/**
 * A third-party encoder, written only against the public interfaces: a plain stack of dilated-free
 * 3×3 convs at full resolution with a residual sum (no down-sampling, unlike the U-Net).
 */
class FlatResidualEncoder implements Encoder {
  readonly kind = 'encoder' as const;
  readonly type = 'flat-residual';
  readonly downsamplingFactor = 1;
  readonly inputChannels: number;
  readonly featureChannels: number;
  private readonly layers: ConvLayer[];
  private readonly config: ComponentConfig;

  constructor(config: ComponentConfig) {
    const { inputChannels, width, depth, seed } = config as unknown as { inputChannels: number; width: number; depth: number; seed?: number };
    this.config = { type: 'flat-residual', inputChannels, width, depth, seed: seed ?? 0 };
    this.inputChannels = inputChannels;
    this.featureChannels = width;
    const rng = new SeededRandom(seed ?? 0);
    this.layers = Array.from({ length: depth }, (_, i) =>
      new ConvLayer({ kernelSize: 3, inputChannels: i === 0 ? inputChannels : width, outputChannels: width, activation: 'relu', weightDecay: true, rng }),
    );
  }

  apply(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.layers[0]!.apply(images);
      for (const layer of this.layers.slice(1)) h = tf.add(h, layer.apply(h)) as tf.Tensor4D;
      return h;
    });
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((l, i) => l.parameters(`conv${i}`));
  }

  getConfig(): ComponentConfig {
    return { ...this.config };
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

const myPlugin: ProbUNetPlugin = { name: 'my-encoders', encoders: { 'flat-residual': (c) => new FlatResidualEncoder(c) } };

describeEncoderContract('unet', () => new UNetEncoder({ inputChannels: 2, channels: [4, 6, 8], convsPerBlock: 2, seed: 1 }));
describeEncoderContract('flat-residual (third party)', () => new FlatResidualEncoder({ type: 'flat-residual', inputChannels: 1, width: 5, depth: 3 }), {
  plugins: [corePlugin, myPlugin],
});
describeLatentNetContract('conv-gaussian prior', () => new ConvGaussian({ imageChannels: 1, channels: [4, 8], convsPerBlock: 1, latentDim: 3 }));
describeLatentNetContract('conv-gaussian posterior', () =>
  new ConvGaussian({ imageChannels: 1, conditionChannels: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 3 }),
);
describeFusionHeadContract('tile-concat-1x1', () => new TileConcatFusion({ featureChannels: 4, latentDim: 3, numClasses: 3, num1x1Convs: 2 }));

describe('swapping in a custom encoder through the registry', () => {
  it('builds from a JSON config naming the plugin type, trains, and round-trips its config', async () => {
    const registry = createRegistry([corePlugin, myPlugin]);
    const latent = { type: 'conv-gaussian', imageChannels: 1, channels: [4, 8], convsPerBlock: 1, latentDim: 2 };
    const config = {
      encoder: { type: 'flat-residual', inputChannels: 1, width: 6, depth: 2 },
      prior: { ...latent, seed: 1 },
      posterior: { ...latent, conditionChannels: 2, seed: 2 },
      fusion: { type: 'tile-concat-1x1', featureChannels: 6, latentDim: 2, numClasses: 2, num1x1Convs: 1 },
    };
    const model = createProbUNet(config, { registry });
    expect(model.encoder.type).toBe('flat-residual');
    const trainer = new Trainer(model, { learningRate: 3e-3, seed: 1 });
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.cast(tf.greater(tf.squeeze(images, [3]), 0.5), 'int32') as tf.Tensor3D;
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) losses.push((await trainer.trainStep({ images, labels })).terms.reconstruction!);
    const lastFive = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(lastFive).toBeLessThan(losses[0]! * 0.6);
    const copy = createProbUNet(JSON.parse(JSON.stringify(model.getConfig())), { registry });
    expect(copy.encoder.type).toBe('flat-residual');
    tf.dispose([images, labels]);
    for (const x of [trainer, model, copy]) x.dispose();
  });

  it('without the plugin, says which types exist and how to register one', () => {
    const config = { encoder: { type: 'flat-residual', inputChannels: 1, width: 6, depth: 2 }, prior: {}, posterior: {}, fusion: {} } as never;
    expect(() => createProbUNet(config)).toThrow(/unknown encoder type "flat-residual"; registered: unet. Register the plugin/);
  });

  it('rejects two plugins that claim the same type', () => {
    const clash: ProbUNetPlugin = { name: 'clash', encoders: { unet: (c) => new FlatResidualEncoder(c) } };
    expect(() => createRegistry([corePlugin, clash])).toThrow(ConfigError);
    expect(() => createRegistry([corePlugin, clash])).toThrow(/encoder type "unet" is registered by both "@probunet\/core" and "clash"/);
  });
});
