import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { baselinesPlugin, createModel } from '@probunet/baselines';
import { ConfigError, Trainer, corePlugin, createRegistry, type CheckpointableModel, type ModelConfig } from '@probunet/core';
import { loadCheckpoint, saveCheckpoint } from '@probunet/core/node';
import { describeModelContract, describeSamplerContract } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import { successorsPlugin } from '../plugin.js';
import { ssnParameterShapes } from './parameter-shapes.js';
import type { SSNConfig } from './ssn-options.js';
import { StochasticSegmentationNetwork } from './stochastic-segmentation-network.js';

const plugins = [corePlugin, baselinesPlugin, successorsPlugin];
const registry = createRegistry(plugins);
const small: SSNConfig & { type: 'ssn' } = { type: 'ssn', inputChannels: 1, numClasses: 3, channels: [4, 8], convsPerBlock: 1, seed: 2, rank: 3, mcSamples: 4 };
/** createModel with the three plugins (its typed overloads list the six built-in types only). */
const build = (config: SSNConfig & { type: 'ssn' }): CheckpointableModel => createModel(config as ModelConfig, registry);
const make = () => build(small);

describeSamplerContract('StochasticSegmentationNetwork', make, { channels: 1, size: 8 });
describeModelContract('StochasticSegmentationNetwork', make, { channels: 1, size: 8, plugins });
describeModelContract(
  'StochasticSegmentationNetwork (plain Monte Carlo, odd M)',
  () => new StochasticSegmentationNetwork({ inputChannels: 2, numClasses: 2, channels: [4, 8], convsPerBlock: 1, rank: 2, mcSamples: 3, antithetic: false }),
  { channels: 2, size: 8, plugins },
);

describe('ssn config', () => {
  it('fills in the authors’ defaults, and getConfig() rebuilds the same model through JSON', () => {
    const model = build({ type: 'ssn', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1 });
    const copy = createModel(JSON.parse(JSON.stringify(model.getConfig())), registry);
    try {
      expect(model.getConfig()).toEqual({
        type: 'ssn',
        inputChannels: 1,
        numClasses: 2,
        channels: [4, 8],
        convsPerBlock: 1,
        seed: 0,
        ignoreLabel: 255,
        rank: 10,
        mcSamples: 20,
        antithetic: true,
        diagonalEpsilon: 1e-5,
        sampleDiagonalEpsilon: 1e-3,
      });
      expect(copy.getConfig()).toEqual(model.getConfig());
      expect(copy.parameters().map((p) => [p.name, p.variable.shape])).toEqual(model.parameters().map((p) => [p.name, p.variable.shape]));
    } finally {
      model.dispose();
      copy.dispose();
    }
  });

  it('declares the parameter shapes the built model allocates, without building it', () => {
    const model = build({ ...small, channels: [4, 8, 6], convsPerBlock: 2 });
    const declared = registry.expectedParameterShapes(model.getConfig())!;
    const flat = new Map([...declared.values()].flatMap((m) => [...m!]));
    expect(new Map(model.parameters().map((p) => [p.name, p.variable.shape]))).toEqual(flat);
    // Every parameter sits under one of the declared parts (the checkpoint check's prefixes).
    for (const p of model.parameters()) expect([...declared.keys()]).toContain(p.name.split('/')[0]);
    model.dispose();
    expect(ssnParameterShapes(small).get('factor')?.get('factor/kernel')).toEqual([1, 1, 4, 9]);
  });

  it.each([
    [{ ...small, rnak: 3 }, /ssn: unknown option "rnak"; the options of ssn are .*rank, mcSamples, antithetic/],
    [{ ...small, rank: 0 }, /ssn: rank must be a positive integer, got 0: e.g. rank: 10/],
    [{ ...small, mcSamples: 5 }, /ssn: mcSamples must be even with antithetic sampling \(pairs ±\), got 5: e.g. mcSamples: 6, or antithetic: false/],
    [{ ...small, mcSamples: 2.5 }, /ssn: mcSamples must be a positive integer, got 2.5/],
    [{ ...small, antithetic: 'yes' }, /ssn: antithetic must be true or false, got "yes"/],
    [{ ...small, diagonalEpsilon: 0 }, /ssn: diagonalEpsilon must be > 0/],
    [{ ...small, sampleDiagonalEpsilon: -1 }, /ssn: sampleDiagonalEpsilon must be a finite number ≥ 0, got -1: e.g. sampleDiagonalEpsilon: 0.001/],
    [{ ...small, numClasses: 1 }, /ssn: numClasses must be ≥ 2/],
    [{ ...small, ignoreLabel: 2 }, /ssn: ignoreLabel 2 collides with a class index/],
  ])('names the bad option and the fix (%#)', (config, message) => {
    const before = tf.memory().numTensors;
    expect(() => createModel(config as never, registry)).toThrow(ConfigError);
    expect(() => createModel(config as never, registry)).toThrow(message);
    expect(() => registry.expectedParameterShapes(config as never)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ssn checkpoints', () => {
  const trained = async (): Promise<{ model: CheckpointableModel; trainer: Trainer<CheckpointableModel>; images: tf.Tensor4D }> => {
    const model = build(small);
    const trainer = new Trainer(model, { learningRate: 1e-2, seed: 3 });
    const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.cast(tf.randomUniform([2, 2, 8, 8], 0, 3, 'float32', 2), 'int32')) as tf.Tensor4D;
    await trainer.trainStep({ images, labels });
    labels.dispose();
    return { model, trainer, images };
  };

  it('saveCheckpoint + loadCheckpoint with the three plugins gives the same type, step and samples', async () => {
    const { model, trainer, images } = await trained();
    const path = join(await mkdtemp(join(tmpdir(), 'probunet-ssn-')), 'ssn.ckpt');
    await saveCheckpoint(path, model, trainer);
    const restored = await loadCheckpoint(path, { registry, expectedType: 'ssn' });
    const a = model.sample(images, 6, { seed: 8 });
    const b = restored.model.sample(images, 6, { seed: 8 });
    try {
      expect(restored.model).toBeInstanceOf(StochasticSegmentationNetwork);
      expect(restored.trainerState?.state.step).toBe(1);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      await expect(loadCheckpoint(path, { registry: createRegistry([corePlugin, baselinesPlugin]) })).rejects.toThrow(/unknown model type "ssn"/);
    } finally {
      tf.dispose([images, a, b]);
      restored.model.dispose();
      trainer.dispose();
      model.dispose();
    }
  });
});
