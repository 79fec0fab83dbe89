import * as tf from '@tensorflow/tfjs-core';
import type { GaussianParams } from '../spec/components.js';
import { backendCapabilities, CAPABILITY_KERNELS } from './conv.js';

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

/**
 * Standard-normal float32 noise of `shape` from `seed` (an integer in [0, 2^31)). On a backend with
 * the `fusedRandomNormal` capability (native, wasm-native) one parallel kernel generates it (a
 * counter-based hash and the inverse normal CDF: 12 ms against TensorFlow.js's 318 ms for the
 * 7.86 M values a cityscapes-like Stochastic Segmentation Network step draws, bench/ssn-loss-kernels.ts); elsewhere
 * `tf.randomNormal`. The two give different values for one seed; each is reproducible from it.
 */
export function randomStandardNormal(shape: number[], seed: number): tf.Tensor {
  if (!backendCapabilities().fusedRandomNormal) return tf.randomNormal(shape, 0, 1, 'float32', seed);
  return tf.engine().runKernel(CAPABILITY_KERNELS.fusedRandomNormal, {}, { shape, seed } as unknown as tf.NamedAttrMap) as tf.Tensor;
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
