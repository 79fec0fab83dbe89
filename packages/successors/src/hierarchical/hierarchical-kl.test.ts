import * as tf from '@tensorflow/tfjs-core';
import { expectArrayClose } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/level-kl.json' with { type: 'json' };
import { HierarchicalProbUNet, levelKl } from './hierarchical-prob-unet.js';

/** KL(q ‖ p) of diagonal Gaussians from plain arrays, per image: the formula written out again, no TensorFlow. */
function klByHand(q: { mean: Float32Array; logSigma: Float32Array }, p: { mean: Float32Array; logSigma: Float32Array }, batch: number): number[] {
  const per = q.mean.length / batch;
  return Array.from({ length: batch }, (_, b) => {
    let sum = 0;
    for (let i = b * per; i < (b + 1) * per; i++) {
      const [mq, lq, mp, lp] = [q.mean[i]!, q.logSigma[i]!, p.mean[i]!, p.logSigma[i]!];
      sum += lp - lq + (Math.exp(2 * lq) + (mq - mp) ** 2) / (2 * Math.exp(2 * lp)) - 0.5;
    }
    return sum;
  });
}

describe('levelKl', () => {
  it('matches numpy (float64) on a [2,2,3,2] level (__fixtures__/level-kl.json)', async () => {
    const shape = golden.shape as [number, number, number, number];
    const t = (values: number[]) => tf.tensor4d(values, shape);
    const q = { mean: t(golden.posterior.mean), logSigma: t(golden.posterior.logSigma) };
    const p = { mean: t(golden.prior.mean), logSigma: t(golden.prior.logSigma) };
    const kl = levelKl(q, p);
    expectArrayClose(await kl.data(), golden.kl, { rtol: 1e-5, atol: 1e-4 });
    expect(levelKl(q, q).dataSync().every((v) => Math.abs(v) < 1e-5)).toBe(true); // KL(q ‖ q) = 0
    tf.dispose([q.mean, q.logSigma, p.mean, p.logSigma, kl]);
  });
});

describe('HierarchicalProbUNet per-level KL', () => {
  it('each kl<l> term is the batch mean of KL(q_l ‖ p_l) over the level’s pixels, computed by hand from the level distributions', async () => {
    const model = new HierarchicalProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8, 8, 8], convsPerBlock: 1, latentDims: [2, 1, 1], seed: 5 });
    const images = tf.randomUniform([3, 16, 16, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([3, 16, 16], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor3D);
    const { objective, terms } = model.lossTerms(images, labels, 17);
    const { posterior, prior } = model.levelDistributions(images, labels, 17);
    expect(posterior.map((g) => g.mean.shape)).toEqual([[3, 2, 2, 2], [3, 4, 4, 1], [3, 8, 8, 1]]);
    let total = 0;
    for (let l = 0; l < 3; l++) {
      const read = async (g: { mean: tf.Tensor; logSigma: tf.Tensor }) => ({ mean: (await g.mean.data()) as Float32Array, logSigma: (await g.logSigma.data()) as Float32Array });
      const perImage = klByHand(await read(posterior[l]!), await read(prior[l]!), 3);
      const mean = perImage.reduce((a, b) => a + b, 0) / 3;
      expect(perImage.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
      expectArrayClose(await terms[`kl${l}`]!.data(), [mean], { rtol: 1e-4, atol: 1e-4 });
      total += mean;
    }
    expectArrayClose(await terms.kl!.data(), [total], { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([objective, ...Object.values(terms), images, labels, ...[...posterior, ...prior].flatMap((g) => [g.mean, g.logSigma])]);
    model.dispose();
  });
});
