import * as tf from '@tensorflow/tfjs-core';
import { sumAll } from './sum.js';

/**
 * One-hot encoding with ignore pixels as all-zero rows: [B,H,W] int32 → [B,H,W,K] float32.
 */
export function oneHotMasked(labels: tf.Tensor3D, numClasses: number, ignoreLabel: number): tf.Tensor4D {
  return tf.tidy(() => {
    const valid = tf.notEqual(labels, ignoreLabel);
    const safe = tf.where(valid, labels, tf.zerosLike(labels));
    const oneHot = tf.oneHot(safe, numClasses);
    return tf.mul(oneHot, tf.expandDims(tf.cast(valid, 'float32'), 3)) as tf.Tensor4D;
  });
}

/**
 * log p(y | x, z) of a label map under per-pixel categorical logits, summed over the valid pixels
 * of each image: Σ_pixels log softmax(logits)[y]. This is minus the per-image cross-entropy.
 * @param logits [B,H,W,K]
 * @param oneHot [B,H,W,K] from `oneHotMasked` (ignore pixels all zero)
 * @returns [B]
 */
export function labelLogLikelihood(logits: tf.Tensor4D, oneHot: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), [1, 2, 3]) as tf.Tensor1D);
}

/** Σ ½‖w‖² over the given kernels (the L2 term is weightDecay times this). */
export function halfSquaredNorm(kernels: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    return tf.mul(sumAll(kernels.map((k) => tf.sum(tf.square(k)))), 0.5) as tf.Scalar;
  });
}
