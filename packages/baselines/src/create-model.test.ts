import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Trainer, corePlugin, createRegistry, type CheckpointableModel } from '@probunet/core';
import { loadCheckpoint, saveCheckpoint } from '@probunet/core/node';
import { describe, expect, it } from 'vitest';
import { MODEL_TYPES, baselinesPlugin, createModel, type ModelType } from './create-model.js';

const small = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, seed: 4 };
const build = (type: ModelType): CheckpointableModel => createModel({ type, ...small } as never);

describe('createModel', () => {
  it.each(MODEL_TYPES)('builds %s from the short form, and getConfig() round-trips through JSON', (type) => {
    const model = build(type);
    const config = JSON.parse(JSON.stringify(model.getConfig()));
    const copy = createModel(config);
    try {
      expect(model.kind).toBe(type);
      expect(copy.kind).toBe(type);
      expect(copy.getConfig()).toEqual(model.getConfig());
      expect(copy.parameters().map((p) => [p.name, p.variable.shape])).toEqual(model.parameters().map((p) => [p.name, p.variable.shape]));
    } finally {
      model.dispose();
      copy.dispose();
    }
  });

  it('fills in each type’s defaults', () => {
    const configs = (['dropout-unet', 'unet-ensemble', 'm-heads', 'image2image-vae'] as const).map((type) => {
      const m = build(type);
      const c = m.getConfig();
      m.dispose();
      return c;
    });
    expect(configs[0]).toMatchObject({ rate: 0.5, encoderBlocks: [1], decoderBlocks: [0], ignoreLabel: 255 });
    expect(configs[1]).toMatchObject({ members: 4 });
    expect(configs[2]).toMatchObject({ heads: 4, relaxation: 0 });
    expect(configs[3]).toMatchObject({ latentDim: 3, beta: 10, logSigmaBound: 5 });
  });

  it.each([
    [{ type: 'm-heads', ...small, head: 3 }, /m-heads: unknown option "head"; the options of m-heads are .*heads/],
    [{ type: 'm-heads', ...small, heads: 0 }, /m-heads: heads must be a positive integer, got 0: e.g. heads: 4/],
    [{ type: 'm-heads', ...small, relaxation: 1 }, /m-heads: relaxation must be in \[0, 1\), got 1/],
    [{ type: 'unet-ensemble', ...small, members: 1.5 }, /unet-ensemble: members must be a positive integer, got 1.5/],
    [{ type: 'dropout-unet', ...small, rate: 1 }, /dropout-unet: rate must be in \[0, 1\), got 1/],
    [{ type: 'dropout-unet', ...small, encoderBlocks: [2] }, /dropout-unet: encoderBlocks must list block indices in 0..1/],
    [{ type: 'image2image-vae', ...small, beta: -1 }, /image2image-vae: beta must be a finite number ≥ 0, got -1/],
    [{ type: 'deterministic-unet', numClasses: 2 }, /deterministic-unet: inputChannels is required and must be a positive integer, got undefined: e.g. inputChannels: 1/],
    [{ type: 'dropout-unet', ...small, ignoreLabel: 1 }, /dropout-unet: ignoreLabel 1 collides with a class index/],
    [{ type: 'm-heads', ...small, channels: [] }, /m-heads: channels must be a non-empty list/],
    [{ ...small }, /a model config needs a "type": one of prob-unet, deterministic-unet, dropout-unet, unet-ensemble, m-heads, image2image-vae/],
    [{ type: 'bayes-unet', ...small }, /unknown model type "bayes-unet"; registered: prob-unet, deterministic-unet, dropout-unet/],
  ])('names the bad field and the fix (%#)', (config, message) => {
    const before = tf.memory().numTensors;
    expect(() => createModel(config as never)).toThrow(ConfigError);
    expect(() => createModel(config as never)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint files of every model type', () => {
  const registry = createRegistry([corePlugin, baselinesPlugin]);

  it.each(MODEL_TYPES)('%s: saveCheckpoint + loadCheckpoint gives the same type, trainer step and samples', async (type) => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-baselines-'));
    const model = build(type);
    const trainer = new Trainer(model, { learningRate: 1e-2, seed: 3 });
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, 2, 8, 8], 0, 1, 'float32', 2), 0.5), 'int32')) as tf.Tensor4D;
    await trainer.trainStep({ images, labels });
    const path = join(dir, `${type}.ckpt`);
    await saveCheckpoint(path, model, trainer);
    const restored = await loadCheckpoint(path, { registry, expectedType: type });
    const a = model.sample(images, 5, { seed: 8 });
    const b = restored.model.sample(images, 5, { seed: 8 });
    try {
      expect(restored.model.kind).toBe(type);
      expect(restored.trainerState?.state.step).toBe(1);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      const other = type === 'm-heads' ? 'unet-ensemble' : 'm-heads';
      await expect(loadCheckpoint(path, { registry, expectedType: other })).rejects.toThrow(
        new RegExp(`${type}.ckpt holds a "${type}" model, not the "${other}" the caller expects`),
      );
      if (type !== 'prob-unet') {
        await expect(loadCheckpoint(path)).rejects.toThrow(new RegExp(`unknown model type "${type}".*baselinesPlugin`));
      }
    } finally {
      tf.dispose([images, labels, a, b]);
      restored.model.dispose();
      trainer.dispose();
      model.dispose();
    }
  });
});
