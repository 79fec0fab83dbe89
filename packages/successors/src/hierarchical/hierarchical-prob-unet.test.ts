import * as tf from '@tensorflow/tfjs-core';
import { baselinesPlugin } from '@probunet/baselines';
import { ConfigError, corePlugin, createRegistry, encodeCheckpoint, restoreCheckpoint, type ModelConfig } from '@probunet/core';
import { describeModelContract, describeSamplerContract, expectNoLeakedTensors } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import { successorsPlugin } from '../plugin.js';
import { HierarchicalProbUNet } from './hierarchical-prob-unet.js';

const plugins = [corePlugin, baselinesPlugin, successorsPlugin];
const registry = createRegistry(plugins);
const small = { type: 'hierarchical-prob-unet', inputChannels: 1, numClasses: 3, channels: [4, 8, 8], convsPerBlock: 1, seed: 2, latentDims: [1, 2] };
const make = () => registry.createModel(small as ModelConfig);
const makeGeco = () => registry.createModel({ ...small, objective: 'geco' } as ModelConfig);

describeSamplerContract('HierarchicalProbUNet', make, { channels: 1, size: 8 });
describeModelContract('HierarchicalProbUNet', make, { channels: 1, size: 8, plugins });
describeModelContract('HierarchicalProbUNet (GECO)', makeGeco, { channels: 1, size: 8, plugins });
describeModelContract('HierarchicalProbUNet (GECO, top-k)', () => registry.createModel({ ...small, objective: 'geco', topKPercentage: 0.25 } as ModelConfig), { channels: 1, size: 8, plugins });

describe('HierarchicalProbUNet config', () => {
  it('getConfig fills in every option with its default', () => {
    const model = registry.createModel({ type: 'hierarchical-prob-unet', inputChannels: 1, numClasses: 2, channels: [4, 8, 8, 8], convsPerBlock: 1 } as ModelConfig);
    expect(model.getConfig()).toEqual({
      type: 'hierarchical-prob-unet',
      inputChannels: 1,
      numClasses: 2,
      channels: [4, 8, 8, 8],
      convsPerBlock: 1,
      seed: 0,
      ignoreLabel: 255,
      latentDims: [1, 1, 1],
      objective: 'elbo',
      beta: 1,
      gecoKappa: 0.05,
      gecoRate: 0.01,
      logSigmaBound: 5,
      topKPercentage: null,
    });
    model.dispose();
  });

  it.each([
    [{ latentDim: 3 }, /unknown option "latentDim".*latentDims/],
    [{ latentDims: [1, 1, 1] }, /latentDims has 3 levels but channels \[4,8,8\] give 2 decoder scale\(s\).*at most 2/],
    [{ latentDims: [] }, /latentDims must be a non-empty list/],
    [{ latentDims: [1, 0.5] }, /latentDims must be a non-empty list of positive integers/],
    [{ objective: 'vae' }, /objective must be "elbo" or "geco", got "vae"/],
    [{ beta: -1 }, /beta must be a finite number ≥ 0, got -1/],
    [{ gecoKappa: Number.NaN }, /gecoKappa must be a finite number/],
    [{ gecoRate: 0 }, /gecoRate must be > 0/],
    [{ logSigmaBound: 0 }, /logSigmaBound must be > 0/],
    [{ topKPercentage: 0 }, /topKPercentage must be null \(off\) or a share of pixels in \(0, 1\], got 0/],
    [{ topKPercentage: 2 }, /topKPercentage must be null/],
    [{ numClasses: 1 }, /numClasses must be ≥ 2/],
  ])('refuses %j with a ConfigError naming the option', (bad, message) => {
    const build = () => new HierarchicalProbUNet({ ...small, type: 'hierarchical-prob-unet', ...bad } as never);
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });

  it('declares the parameter shapes it allocates (the checkpoint reader checks headers against them)', () => {
    for (const config of [small, { ...small, objective: 'geco' }, { ...small, latentDims: [2], channels: [4, 8, 8, 8] }]) {
      const model = registry.createModel(config as ModelConfig);
      const declared = registry.expectedParameterShapes(model.getConfig())!;
      const flat = new Map([...declared.values()].flatMap((m) => [...m!]));
      const real = new Map(model.parameters().map((p) => [p.name, p.variable.shape]));
      expect(new Map([...flat].map(([n, s]) => [n, [...s]]))).toEqual(real);
      for (const [prefix, shapes] of declared) for (const name of shapes!.keys()) expect(name.startsWith(`${prefix}/`)).toBe(true);
      model.dispose();
    }
  });
});

describe('HierarchicalProbUNet', () => {
  const images = () => tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
  const labels = () => tf.tidy(() => tf.cast(tf.randomUniform([2, 8, 8], 0, 3, 'float32', 4), 'int32') as tf.Tensor3D);

  it('reports each level’s KL as its own term, and their sum; the ELBO is reconstruction + β·Σ KL', async () => {
    const model = new HierarchicalProbUNet({ ...(small as object), beta: 2.5 } as never);
    const [x, y] = [images(), labels()];
    const { objective, terms } = model.lossTerms(x, y, 11);
    expect(Object.keys(terms)).toEqual(['reconstruction', 'kl0', 'kl1', 'kl']);
    const v = Object.fromEntries(await Promise.all(Object.entries(terms).map(async ([k, t]) => [k, (await t.data())[0]!] as const)));
    for (const k of Object.keys(v)) expect(Number.isFinite(v[k])).toBe(true);
    expect(v.kl0).toBeGreaterThanOrEqual(0);
    expect(v.kl1).toBeGreaterThanOrEqual(0);
    expect(v.kl).toBeCloseTo(v.kl0! + v.kl1!, 4);
    expect((await objective.data())[0]).toBeCloseTo(v.reconstruction! + 2.5 * v.kl!, 3);
    tf.dispose([objective, ...Object.values(terms), x, y]);
    model.dispose();
  });

  it('sharedLevels: every level shared gives n identical samples, none shared does not; leaks nothing; refuses a level the model does not have', async () => {
    const model = make() as HierarchicalProbUNet;
    const x = images();
    const rows = async (s: tf.Tensor4D) => {
      const data = Array.from(await s.data());
      s.dispose();
      const per = 8 * 8;
      return Array.from({ length: 2 * 6 }, (_, r) => data.slice(r * per, (r + 1) * per).join(''));
    };
    const all = await rows(model.sample(x, 6, { seed: 4, sharedLevels: [0, 1] }));
    for (let b = 0; b < 2; b++) expect(new Set(all.slice(b * 6, b * 6 + 6)).size).toBe(1);
    const none = await rows(model.sample(x, 6, { seed: 4 }));
    expect(new Set(none.slice(0, 6)).size).toBeGreaterThan(1);
    await expectNoLeakedTensors(() => model.sample(x, 2, { seed: 1, sharedLevels: [0] }).dispose(), { what: 'sample with sharedLevels' });
    expect(() => model.sample(x, 2, { sharedLevels: [2] })).toThrow(/level 2 is not a latent level of this model \(0\.\.1/);
    x.dispose();
    model.dispose();
  });

  it('reconstructs from the posterior means, deterministically, without leaking', async () => {
    const model = make() as HierarchicalProbUNet;
    const [x, y] = [images(), labels()];
    const a = model.reconstruct(x, y);
    const b = model.reconstruct(x, y);
    expect(a.shape).toEqual([2, 8, 8]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    await expectNoLeakedTensors(() => model.reconstruct(x, y).dispose(), { what: 'reconstruct' });
    tf.dispose([a, b, x, y]);
    model.dispose();
  });

  it('restores from a checkpoint with identical samples and reconstructions', async () => {
    const model = make() as HierarchicalProbUNet;
    const bytes = await encodeCheckpoint(model);
    const restored = restoreCheckpoint(bytes, { registry, expectedType: 'hierarchical-prob-unet' }).model as HierarchicalProbUNet;
    const x = images();
    const [a, b] = [model.sample(x, 4, { seed: 9 }), restored.sample(x, 4, { seed: 9 })];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([a, b, x]);
    model.dispose();
    restored.dispose();
  });
});
