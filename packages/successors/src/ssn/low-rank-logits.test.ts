import * as tf from '@tensorflow/tfjs-core';
import { oneHotMasked } from '@probunet/core/internal';
import { expectArrayClose, expectNoLeakedTensors, tolerance } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/golden-ssn-loss.json' with { type: 'json' };
import { logitDeviations, monteCarloLogLikelihood } from './low-rank-logits.js';

type Case = (typeof golden.cases)[number];

/** −mean log-likelihood and its gradients with respect to μ, D and P, for a golden case. */
function lossAndGradients(c: Case) {
  const t = {
    mean: tf.tensor4d(c.mean),
    diagonal: tf.tensor4d(c.diagonal),
    factor: tf.tensor5d(c.factor),
    factorNoise: tf.tensor3d(c.factorNoise),
    diagonalNoise: tf.tensor5d(c.diagonalNoise),
    labels: tf.tensor3d(c.labels, undefined, 'int32'),
  };
  const k = t.mean.shape[3];
  const oneHot = oneHotMasked(t.labels, k, golden.ignoreLabel);
  const logLikelihood = (mean: tf.Tensor, diagonal: tf.Tensor, factor: tf.Tensor) =>
    tf.tidy(() => {
      const dist = { mean: mean as tf.Tensor4D, diagonal: diagonal as tf.Tensor4D, factor: factor as tf.Tensor5D };
      return monteCarloLogLikelihood(dist.mean, logitDeviations(dist, t.factorNoise, t.diagonalNoise), oneHot, c.antithetic);
    });
  const ll = logLikelihood(t.mean, t.diagonal, t.factor);
  const grads = tf.grads((m, d, p) => tf.neg(tf.mean(logLikelihood(m, d, p))))([t.mean, t.diagonal, t.factor]);
  const out = { ll: ll.dataSync(), gradMean: grads[0]!.dataSync(), gradDiagonal: grads[1]!.dataSync(), gradFactor: grads[2]!.dataSync() };
  tf.dispose([...Object.values(t), oneHot, ll, ...grads]);
  return out;
}

describe('the SSN Monte-Carlo log-likelihood against numpy (scripts/golden_ssn.py)', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s: log-likelihood and gradients', (_name, c) => {
    const got = lossAndGradients(c);
    // The large case's log-likelihoods are ~1e4 from sums of ~1e3-sized float32 logits.
    const rtol = c.name.startsWith('large') ? tolerance('forward') : tolerance('kernel') * 10;
    expectArrayClose(got.ll, c.logLikelihood.flat(), { rtol, atol: 1e-5, what: 'log-likelihood' });
    const g = tolerance('gradient');
    expectArrayClose(got.gradMean, c.gradMean.flat(4), { rtol: g, atol: g * 1e-2, what: 'd loss / d mean' });
    expectArrayClose(got.gradDiagonal, c.gradDiagonal.flat(4), { rtol: g, atol: g * 1e-2, what: 'd loss / d diagonal' });
    expectArrayClose(got.gradFactor, c.gradFactor.flat(5), { rtol: g, atol: g * 1e-2, what: 'd loss / d factor' });
  });

  it('stays finite where a naive mean of likelihoods underflows: logits of ±1e4, 4,096 pixels', () => {
    const [b, h, w, k, r, s] = [2, 64, 64, 2, 3, 4];
    const dist = {
      mean: tf.mul(tf.randomNormal([b, h, w, k], 0, 1, 'float32', 1), 1e4) as tf.Tensor4D,
      diagonal: tf.fill([b, h, w, k], 1e6) as tf.Tensor4D,
      factor: tf.mul(tf.randomNormal([b, h, w, k, r], 0, 1, 'float32', 2), 1e3) as tf.Tensor5D,
    };
    const noise = [tf.randomNormal([b, s, r], 0, 1, 'float32', 3) as tf.Tensor3D, tf.randomNormal([b, s, h, w, k], 0, 1, 'float32', 4) as tf.Tensor5D] as const;
    const labels = tf.cast(tf.randomUniform([b, h, w], 0, k, 'float32', 5), 'int32') as tf.Tensor3D;
    const oneHot = oneHotMasked(labels, k, 255);
    const f = (mean: tf.Tensor) => tf.neg(tf.mean(monteCarloLogLikelihood(mean as tf.Tensor4D, logitDeviations(dist, ...noise), oneHot, true)));
    const { value, grad } = tf.valueAndGrad(f)(dist.mean);
    const loss = value.dataSync()[0]!;
    // Each pixel's wrong class costs ~1e4 nats: exp(log-likelihood) is 0 in float32 and float64 alike.
    expect(loss).toBeGreaterThan(1e6);
    expect(Number.isFinite(loss)).toBe(true);
    expect(grad.dataSync().every(Number.isFinite)).toBe(true);
    tf.dispose([...Object.values(dist), ...noise, labels, oneHot, value, grad]);
  });

  it('leaks no tensor, forward and backward', async () => {
    const c = golden.cases[0]!;
    await expectNoLeakedTensors(() => lossAndGradients(c), { what: 'monteCarloLogLikelihood + grads' });
  });
});
