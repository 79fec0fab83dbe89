import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { conv2dSame } from './conv.js';

// Regression: tfjs runs a customGrad's gradFunc outside a per-node tidy, so the conv gradient's
// temporaries must be freed by the gradient itself or they pile up across the whole backward pass
// (this took the full LIDC train step past wasm's 4 GiB heap at batch 8).
it('backward peak memory grows by about the saved activations per layer, not by every temporary', async () => {
  const layerBytes = 2 * 32 * 32 * 16 * 4;
  const peakFor = async (depth: number) => {
    const x = tf.randomNormal([2, 32, 32, 16]) as tf.Tensor4D;
    const ws = Array.from({ length: depth }, (_, i) => tf.randomNormal([3, 3, 16, 16], 0, 0.1, 'float32', i) as tf.Tensor4D);
    const bs = ws.map(() => tf.zeros([16]) as tf.Tensor1D);
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => {
      const g = tf.grads((...w: tf.Tensor[]) => {
        let h = x;
        w.forEach((k, i) => (h = conv2dSame(h, k as tf.Tensor4D, bs[i]!, 'relu')));
        return tf.sum(h);
      })(ws);
      tf.dispose(g);
    });
    tf.dispose([x, ...ws, ...bs]);
    return info.peakBytes - before;
  };
  const shallow = await peakFor(2);
  const deep = await peakFor(8);
  const perLayer = (deep - shallow) / 6;
  // Saved per layer: its output (the next layer's input) and the ReLU mask input, plus its gradient
  // in flight: ≈ 3 layer-sized tensors. Without the gradient's own tidy it was ≈ 9.
  expect(perLayer / layerBytes).toBeLessThan(5);
});
