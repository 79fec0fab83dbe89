import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../testing/assertions.js';
import { gaussianLogDensity, klDiagonalGaussians, sampleGaussian } from './gaussian.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A batch of axis-aligned Gaussians from rows of [mean, sigma] per latent dimension. */
function gaussians(rows: Array<Array<[number, number]>>) {
  return {
    mean: tf.tensor2d(rows.map((r) => r.map(([m]) => m))),
    logSigma: tf.tensor2d(rows.map((r) => r.map(([, s]) => Math.log(s)))),
  };
}

async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

describe('klDiagonalGaussians, by hand', () => {
  // KL(N(μq, σq²) ‖ N(μp, σp²)) = ln(σp/σq) + (σq² + (μq − μp)²) / (2σp²) − ½ per dimension.
  it.each([
    ['identical', [[0.3, 0.7]], [[0.3, 0.7]], 0],
    ['mean shifted by 3, unit variances: 9/2', [[3, 1]], [[0, 1]], 4.5],
    ['q = N(1, 0.5²), p = N(0, 2²): ln 4 + 1.25/8 − ½', [[1, 0.5]], [[0, 2]], Math.log(4) + 1.25 / 8 - 0.5],
    ['q = N(0, 2²), p = N(0, 1): −ln 2 + 4/2 − ½', [[0, 2]], [[0, 1]], -Math.log(2) + 1.5],
  ] as const)('%s', async (_name, q, p, expected) => {
    const qg = gaussians([q as unknown as Array<[number, number]>]);
    const pg = gaussians([p as unknown as Array<[number, number]>]);
    const [kl] = await values(klDiagonalGaussians(qg, pg));
    expect(kl).toBeCloseTo(expected, 5);
    tf.dispose([qg.mean, qg.logSigma, pg.mean, pg.logSigma]);
  });

  it('sums over the latent axis and keeps the batch axis', async () => {
    const q = gaussians([
      [
        [1, 0.5],
        [3, 1],
      ],
      [
        [0, 1],
        [0, 1],
      ],
    ]);
    const p = gaussians([
      [
        [0, 2],
        [0, 1],
      ],
      [
        [0, 1],
        [0, 1],
      ],
    ]);
    const kl = await values(klDiagonalGaussians(q, p));
    expect(kl).toHaveLength(2);
    expect(kl[0]).toBeCloseTo(Math.log(4) + 1.25 / 8 - 0.5 + 4.5, 5);
    expect(kl[1]).toBeCloseTo(0, 6);
    tf.dispose([q.mean, q.logSigma, p.mean, p.logSigma]);
  });

  it('is never negative and is not symmetric', async () => {
    const a = gaussians([[[0.5, 0.3], [-1, 2]]]);
    const b = gaussians([[[-0.2, 1.1], [0.4, 0.6]]]);
    const [ab] = await values(klDiagonalGaussians(a, b));
    const [ba] = await values(klDiagonalGaussians(b, a));
    expect(ab).toBeGreaterThan(0);
    expect(ba).toBeGreaterThan(0);
    expect(Math.abs(ab! - ba!)).toBeGreaterThan(0.1);
    tf.dispose([a.mean, a.logSigma, b.mean, b.logSigma]);
  });
});

describe('gaussianLogDensity, by hand', () => {
  it.each([
    ['standard normal at 0: −½ ln 2π', [[0, 1]], [0], -0.5 * LOG_2PI],
    ['standard normal at 1: −½ − ½ ln 2π', [[0, 1]], [1], -0.5 - 0.5 * LOG_2PI],
    ['N(0, 2²) at 0: −ln 2 − ½ ln 2π', [[0, 2]], [0], -Math.log(2) - 0.5 * LOG_2PI],
    ['N(3, 0.5²) at 4: −2 − ln ½ − ½ ln 2π', [[3, 0.5]], [4], -2 - Math.log(0.5) - 0.5 * LOG_2PI],
    ['two dimensions add', [[0, 1], [0, 2]], [1, 0], -0.5 - LOG_2PI - Math.log(2)],
  ] as const)('%s', async (_name, g, z, expected) => {
    const gg = gaussians([g as unknown as Array<[number, number]>]);
    const zt = tf.tensor2d([z as unknown as number[]]);
    const [logp] = await values(gaussianLogDensity(gg, zt));
    expect(logp).toBeCloseTo(expected, 5);
    tf.dispose([gg.mean, gg.logSigma, zt]);
  });
});

describe('sampleGaussian', () => {
  it('draws z = μ + σ·ε: the sample mean, spread and the Monte-Carlo KL match the analytic ones', async () => {
    const n = 20000;
    const q = { mean: tf.fill([n, 2], 1.5) as tf.Tensor2D, logSigma: tf.fill([n, 2], Math.log(0.5)) as tf.Tensor2D };
    const p = { mean: tf.zeros([n, 2]) as tf.Tensor2D, logSigma: tf.zeros([n, 2]) as tf.Tensor2D };
    const z = sampleGaussian(q, 3);
    const zs = await z.data();
    let sum = 0;
    let sq = 0;
    for (const v of zs) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / zs.length;
    expect(mean).toBeCloseTo(1.5, 1);
    expect(Math.sqrt(sq / zs.length - mean * mean)).toBeCloseTo(0.5, 1);
    // E_q[log q(z) − log p(z)] estimates KL(q ‖ p): both functions checked against each other.
    const logq = await values(gaussianLogDensity(q, z));
    const logp = await values(gaussianLogDensity(p, z));
    const mc = logq.reduce((a, v, i) => a + v - logp[i]!, 0) / n;
    const [analytic] = await values(tf.slice(klDiagonalGaussians(q, p), 0, 1));
    expect(mc).toBeCloseTo(analytic!, 1);
    // Same seed, same draw.
    const again = await values(sampleGaussian(q, 3));
    expect(again.slice(0, 8)).toEqual(Array.from(zs.slice(0, 8)));
    tf.dispose([q.mean, q.logSigma, p.mean, p.logSigma, z]);
  });

  it('allocates nothing it does not return', async () => {
    const g = gaussians([[[0, 1], [1, 2]]]);
    await expectNoLeakedTensors(() => {
      tf.dispose([klDiagonalGaussians(g, g), gaussianLogDensity(g, g.mean as tf.Tensor2D), sampleGaussian(g, 1)]);
    });
    tf.dispose([g.mean, g.logSigma]);
  });
});
