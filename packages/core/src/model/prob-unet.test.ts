import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../errors.js';
import { describeSamplerContract, expectNoLeakedTensors } from '../testing/index.js';
import { createProbUNet } from './create.js';
import type { ProbUNet } from './prob-unet.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 2, seed: 1 };

describe('createProbUNet', () => {
  let model: ProbUNet | undefined;
  afterEach(() => {
    model?.dispose();
    model = undefined;
  });

  it('reproduces the authors\u2019 parameter counts for the Cityscapes configuration', () => {
    // Published in shared/PAPER.md, counted from the authors' TensorFlow code.
    model = createProbUNet({
      inputChannels: 3,
      numClasses: 24,
      channels: [32, 64, 128, 192, 192, 192, 192],
      convsPerBlock: 3,
      latentDim: 6,
      num1x1Convs: 3,
    });
    expect(model.parameterCounts()).toEqual({
      unet: 9_231_456,
      prior: 4_356_108,
      posterior: 4_363_020,
      fusion: 4_152,
      total: 17_954_736,
    });
  });

  it('uses the authors\u2019 defaults for everything but inputChannels and numClasses', () => {
    model = createProbUNet({ inputChannels: 3, numClasses: 24 });
    expect(model.parameterCounts().total).toBe(17_954_736);
    expect(model.beta).toBe(1);
    expect(model.latentDim).toBe(6);
    expect(model.downsamplingFactor).toBe(64);
  });

  it('counts a tiny model by hand', () => {
    model = createProbUNet(tiny);
    // U-Net: down0 1→4 (3·3·1·4+4=40), down1 4→8 (3·3·4·8+8=296), up0 (8+4)→4 (3·3·12·4+4=436)
    // prior: down 40+296, head 1×1 8→4 (36) = 372; posterior: down0 3→4 (112) + 296 + 36 = 444
    // fusion: (4+2)→4 (28), 4→4 (20), logits 4→2 (10) = 58
    expect(model.parameterCounts()).toEqual({ unet: 772, prior: 372, posterior: 444, fusion: 58, total: 1646 });
  });

  it('names every mismatch between parts and how to fix it', () => {
    const base = createProbUNet(tiny).getConfig();
    const bad = { ...base, prior: { ...base.prior, latentDim: 4 }, fusion: { ...base.fusion, featureChannels: 5 } };
    const before = tf.memory().numTensors;
    expect(() => createProbUNet(bad)).toThrow(ConfigError);
    expect(() => createProbUNet(bad)).toThrow(/prior.latentDim \(4\) differs from posterior.latentDim \(2\)/);
    expect(() => createProbUNet(bad)).toThrow(/build the fusion head with featureChannels 4/);
    expect(tf.memory().numTensors).toBe(before); // nothing built is left behind
  });

  it.each([
    [{ ...tiny, numClasses: 1 }, /numClasses must be ≥ 2/],
    [{ ...tiny, inputChannels: 0 }, /inputChannels is required/],
    [{ ...tiny, ignoreLabel: 1 }, /ignoreLabel 1 collides/],
    [{ ...tiny, channels: [] }, /channels must be a non-empty list/],
    [{ ...tiny, beta: -1 }, /beta must be/],
  ])('rejects a bad short config (%#)', (config, message) => {
    expect(() => createProbUNet(config)).toThrow(message);
  });

  it('rebuilds from getConfig() with identical parameter shapes', () => {
    model = createProbUNet(tiny);
    const copy = createProbUNet(JSON.parse(JSON.stringify(model.getConfig())));
    expect(copy.parameters().map((p) => [p.name, p.variable.shape])).toEqual(model.parameters().map((p) => [p.name, p.variable.shape]));
    copy.dispose();
  });
});

describe('ProbUNet', () => {
  const images = () => tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = () => tf.cast(tf.greater(tf.randomUniform([2, 8, 8], 0, 1, 'float32', 4), 0.5), 'int32') as tf.Tensor3D;

  it('computes the sample with shared features exactly as the naive per-sample way', () => {
    const model = createProbUNet(tiny);
    const x = images();
    const shared = model.sample(x, 4, { seed: 9 });
    const naive = model.sample(x, 4, { seed: 9, recomputeFeatures: true });
    expect(Array.from(shared.dataSync())).toEqual(Array.from(naive.dataSync()));
    tf.dispose([x, shared, naive]);
    model.dispose();
  });

  it('reconstructs, traverses the latent space and scores annotations with the documented shapes', async () => {
    const model = createProbUNet(tiny);
    const x = images();
    const y = labels();
    const rec = model.reconstruct(x, y);
    expect(rec.shape).toEqual([2, 8, 8]);
    const one = tf.slice(x, [0, 0, 0, 0], [1, 8, 8, 1]) as tf.Tensor4D;
    const trav = model.latentTraversal(one, { steps: 3, range: 1 });
    expect(trav.labels.shape).toEqual([2, 3, 8, 8]);
    expect(trav.offsets).toEqual([-1, 0, 1]);
    const score = await model.scoreAnnotation(x, y, { samples: 16, seed: 2 });
    expect(score.elbo).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(Number.isFinite(score.logLikelihood[i])).toBe(true);
      // Jensen: the importance-sampled log-likelihood is at least the ELBO (both from the same draws
      // up to the analytic KL vs its Monte-Carlo estimate, so allow a small slack).
      expect(score.logLikelihood[i]!).toBeGreaterThan(score.elbo[i]! - 1);
      expect(score.kl[i]!).toBeGreaterThanOrEqual(0);
    }
    tf.dispose([x, y, rec, one, trav.labels]);
    model.dispose();
  });

  it('leaks no tensor across sample, reconstruct and score calls', async () => {
    const model = createProbUNet(tiny);
    const x = images();
    const y = labels();
    await expectNoLeakedTensors(async () => {
      model.sample(x, 3, { seed: 1 }).dispose();
      model.reconstruct(x, y).dispose();
      await model.scoreAnnotation(x, y, { samples: 2 });
      const g = model.priorDistribution(x);
      tf.dispose([g.mean, g.logSigma]);
    });
    tf.dispose([x, y]);
    model.dispose();
  });

  it('returns to the baseline tensor count after dispose()', () => {
    const before = tf.memory().numTensors;
    const model = createProbUNet(tiny);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.sample(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, 1)).toThrow(/disposed/);
  });

  describe('bad input gets an error that names the problem', () => {
    const model = createProbUNet(tiny);
    const spec = (t: () => tf.Tensor) => () => model.sample(t() as tf.Tensor4D, 1);
    it.each([
      ['wrong rank', spec(() => tf.zeros([8, 8, 1])), /rank 4 .* got shape \[8, 8, 1\]/],
      ['wrong channels', spec(() => tf.zeros([1, 8, 8, 3])), /3 channels but the model was built for 1/],
      ['wrong dtype', spec(() => tf.zeros([1, 8, 8, 1], 'int32')), /must be float32, got int32/],
      ['NaN', spec(() => tf.fill([1, 8, 8, 1], NaN)), /NaN or Inf/],
      ['Inf', spec(() => tf.fill([1, 8, 8, 1], Infinity)), /NaN or Inf/],
      ['indivisible size', spec(() => tf.zeros([1, 9, 8, 1])), /9×8 is not divisible .* factor 2: crop or pad to e.g. 10×8/],
    ])('%s', (_name, call, message) => {
      expect(call).toThrow(InputError);
      expect(call).toThrow(message);
    });
    it('labels out of range, other than the ignore label', () => {
      const x = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
      const y = tf.buffer([1, 8, 8], 'int32');
      y.set(255, 0, 0, 0); // the ignore label is fine
      expect(() => model.reconstruct(x, y.toTensor() as tf.Tensor3D).dispose()).not.toThrow();
      y.set(2, 0, 3, 3);
      expect(() => model.reconstruct(x, y.toTensor() as tf.Tensor3D)).toThrow(/value 2 at flat index 27; valid labels are 0..1 and the ignore label 255/);
      expect(() => model.reconstruct(x, tf.zeros([1, 8, 8], 'float32') as tf.Tensor3D)).toThrow(/int32 class indices/);
      expect(() => model.reconstruct(x, tf.zeros([1, 4, 8], 'int32') as tf.Tensor3D)).toThrow(/does not match the images/);
    });
    it('a bad sample count', () => {
      expect(() => model.sample(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, 0)).toThrow(/positive integer, got 0/);
    });
  });
});

describeSamplerContract('ProbUNet', () => createProbUNet(tiny), { channels: 1, size: 8 });
