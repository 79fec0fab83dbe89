import * as tf from '@tensorflow/tfjs-core';
import { drawLogLikelihoods, labelLogLikelihood, oneHotMasked } from '@probunet/core/internal';
import { initBackend, type BackendName } from '../src/index.js';

/**
 * drawLogLikelihoods (and labelLogLikelihood, its one-draw case) on `backend`: the values and the
 * logits' gradient for a weighted sum of them, on SSN-like shapes (3 images × 6 draws of 16×20
 * pixels, 24 classes, every fifth pixel ignored), and the kernels that ran.
 */
export async function drawLikelihoodRun(backend: BackendName): Promise<{ ll: Float32Array; grad: Float32Array; single: Float32Array; kernels: string[]; growth: number }> {
  await initBackend(backend as BackendName);
  const [g, s, h, w, k] = [3, 6, 16, 20, 24];
  const logits = tf.tidy(() => tf.mul(tf.randomNormal([g, s, h, w, k], 0, 1, 'float32', 7), 4));
  const oneHot = tf.tidy(() => {
    const labels = tf.tensor3d(Array.from({ length: g * h * w }, (_, i) => (i % 5 === 2 ? 255 : (i * 7) % k)), [g, h, w], 'int32');
    return oneHotMasked(labels, k, 255);
  });
  const weights = tf.tidy(() => tf.randomUniform([g, s], -1, 1, 'float32', 8));
  try {
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(drawLogLikelihoods(x, oneHot), weights)))(logits)));
    tf.dispose(prof.result as tf.Tensor);
    const [ll, grad, single] = tf.tidy(() => [
      drawLogLikelihoods(logits, oneHot),
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(drawLogLikelihoods(x, oneHot), weights)))(logits),
      labelLogLikelihood(tf.squeeze(tf.slice(logits, [0, 2], [g, 1]), [1]) as tf.Tensor4D, oneHot as tf.Tensor4D),
    ]);
    const out = { ll: (await ll!.data()) as Float32Array, grad: (await grad!.data()) as Float32Array, single: (await single!.data()) as Float32Array };
    tf.dispose([ll!, grad!, single!]);
    return { ...out, kernels: prof.kernelNames, growth: tf.memory().numTensors - before };
  } finally {
    tf.dispose([logits, oneHot, weights]);
  }
}
