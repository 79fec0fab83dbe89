import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { corePlugin, createRegistry, type ProbUNetPlugin } from '../registry.js';
import { describeModelContract } from '../testing/model-contract.js';
import { Trainer } from '../training/trainer.js';
import type { TrainableModel } from '../spec/trainable-model.js';
import { modelTypeOf } from './checkpointable.js';
import { createProbUNet } from './create.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

describeModelContract('ProbUNet', () => createProbUNet(tiny), { channels: 1, size: 8 });

describe('model types', () => {
  it.each([
    [{ type: 'm-heads', heads: 4 }, 'm-heads'],
    [{ format: 'probunet-model', encoder: {} }, 'prob-unet'],
    [{ numClasses: 2 }, undefined],
    [null, undefined],
  ])('modelTypeOf(%j) is %s', (config, type) => {
    expect(modelTypeOf(config)).toBe(type);
  });

  it('a registry builds plugin models, names the plugin to add for an unknown one, and refuses a second prob-unet', () => {
    const made: unknown[] = [];
    const plugin: ProbUNetPlugin = {
      name: 'mine',
      models: { 'my-model': (config, registry) => (made.push([config, registry.plugins]), createProbUNet(tiny)) },
    };
    const registry = createRegistry([corePlugin, plugin]);
    expect(registry.types().models).toEqual(['prob-unet', 'my-model']);
    registry.createModel({ type: 'my-model' }).dispose();
    expect(made).toEqual([[{ type: 'my-model' }, ['@probunet/core', 'mine']]]);
    expect(() => createRegistry().createModel({ type: 'm-heads' })).toThrow(/unknown model type "m-heads"; registered: prob-unet.*baselinesPlugin/);
    const clash: ProbUNetPlugin = { name: 'clash', models: { 'prob-unet': () => createProbUNet(tiny) } };
    expect(() => createRegistry([corePlugin, clash])).toThrow(ConfigError);
    expect(() => createRegistry([corePlugin, clash])).toThrow(/model type "prob-unet" is registered by both "@probunet\/core" and "clash"/);
  });

  it('the core plugin builds the Prob. U-Net like any model: short form, getConfig(), and a typeless old config', () => {
    const registry = createRegistry();
    const direct = createProbUNet(tiny);
    const viaType = registry.createModel({ type: 'prob-unet', ...tiny } as never);
    const fromConfig = registry.createModel(direct.getConfig());
    const typed = registry.createModel({ ...direct.getConfig(), type: 'prob-unet' } as never);
    try {
      for (const m of [viaType, fromConfig, typed]) {
        expect(m.kind).toBe('prob-unet');
        expect(m.getConfig()).toEqual(direct.getConfig());
      }
      expect(registry.expectedParameterShapes(direct.getConfig())?.get('unet')?.get('unet/down0/conv0/kernel')).toEqual([3, 3, 1, 4]);
      expect(() => registry.expectedParameterShapes({ format: 'probunet-model', encoder: 5 } as never)).toThrow(/"model.encoder" must be a component config/);
      expect(() => registry.createModel({ numClasses: 2 } as never)).toThrow(/a model config needs a string "type"/);
    } finally {
      for (const m of [direct, viaType, fromConfig, typed]) m.dispose();
    }
  });
});

describe('Trainer with a model that picks graders itself', () => {
  it('passes [B,A,H,W] labels to lossTermsAllGraders and [B,H,W] ones to lossTerms', async () => {
    const w = tf.variable(tf.scalar(1));
    const ranks: number[] = [];
    const loss = (labels: tf.Tensor) => {
      ranks.push(labels.rank);
      return { objective: tf.mul(tf.square(w), tf.mean(tf.cast(labels, 'float32'))) as tf.Scalar, terms: {} };
    };
    const model: TrainableModel = {
      inputSpec: { channels: 1, numClasses: 2, ignoreLabel: 255, downsamplingFactor: 1 },
      parameters: () => [{ name: 'w', variable: w, weightDecay: false }],
      lossTerms: (_images, labels) => loss(labels),
      lossTermsAllGraders: (_images, labels) => loss(labels),
    };
    const trainer = new Trainer(model, { learningRate: 0.1 });
    const images = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
    const all = tf.ones([2, 3, 4, 4], 'int32') as tf.Tensor4D;
    const one = tf.ones([2, 4, 4], 'int32') as tf.Tensor3D;
    await trainer.trainStep({ images, labels: all });
    await trainer.trainStep({ images, labels: one });
    expect(ranks).toEqual([4, 3]);
    const bad = tf.fill([2, 3, 4, 4], 7, 'int32') as tf.Tensor4D;
    await expect(trainer.trainStep({ images, labels: bad })).rejects.toThrow(/labels contain the value 7/);
    tf.dispose([images, all, one, bad, w]);
    trainer.dispose();
  });
});
