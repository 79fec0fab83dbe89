import * as tf from '@tensorflow/tfjs-core';
import type { GaussianParams } from '../spec/components.js';

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Analytic KL(q ‖ p) between axis-aligned Gaussians, summed over the latent axis:
 * Σ_d [ log σp − log σq + (σq² + (μq − μp)²) / (2 σp²) − ½ ].
 * @returns [B]
 */
export function klDiagonalGaussians(q: GaussianParams, p: GaussianParams): tf.Tensor1D {
  return tf.tidy(() => {
    const varRatio = tf.exp(tf.mul(tf.sub(q.logSigma, p.logSigma), 2));
    const meanTerm = tf.div(tf.square(tf.sub(q.mean, p.mean)), tf.exp(tf.mul(p.logSigma, 2)));
    const perDim = tf.sub(tf.add(tf.sub(p.logSigma, q.logSigma), tf.mul(tf.add(varRatio, meanTerm), 0.5)), 0.5);
    return tf.sum(perDim, 1) as tf.Tensor1D;
  });
}

/** Reparameterised draw z = μ + σ·ε, ε ~ N(0, I) from `seed`. [B, latentDim] */
export function sampleGaussian(g: GaussianParams, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const eps = tf.randomNormal(g.mean.shape, 0, 1, 'float32', seed);
    return tf.add(g.mean, tf.mul(tf.exp(g.logSigma), eps)) as tf.Tensor2D;
  });
}

/** log N(z; μ, diag σ²), summed over the latent axis. [B] */
export function gaussianLogDensity(g: GaussianParams, z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const standardized = tf.div(tf.sub(z, g.mean), tf.exp(g.logSigma));
    const perDim = tf.neg(tf.add(tf.add(tf.mul(tf.square(standardized), 0.5), g.logSigma), 0.5 * LOG_2PI));
    return tf.sum(perDim, 1) as tf.Tensor1D;
  });
}
