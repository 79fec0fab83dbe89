import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeakedTensors } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import { topKMask } from './top-k-mask.js';

describe('topKMask', () => {
  it('keeps exactly ⌊n·share⌋ pixels, never an ignore pixel, and all valid pixels at share 1', () => {
    const xe = tf.randomUniform([2, 4, 4], 0.1, 3, 'float32', 1) as tf.Tensor3D;
    const valid = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, 4, 4], 0, 1, 'float32', 2), 0.3), 'float32') as tf.Tensor3D);
    const m = topKMask(xe, valid, 0.25, 3); // k = 8 of 32
    const [mv, vv] = [Array.from(m.dataSync()), Array.from(valid.dataSync())];
    expect(mv.reduce((a, b) => a + b, 0)).toBe(8);
    expect(mv.every((x, i) => x === 0 || vv[i] === 1)).toBe(true);
    const all = topKMask(xe, valid, 1, 3);
    expect(Array.from(all.dataSync())).toEqual(vv);
    tf.dispose([xe, valid, m, all]);
  });

  it('draws pixels with probability ∝ their cross-entropy (k = 1: 1/8, 2/8, 5/8 over 1,200 seeds)', () => {
    const xe = tf.tensor3d([[[1, 2, 5]]]);
    const valid = tf.ones([1, 1, 3]) as tf.Tensor3D;
    const counts = [0, 0, 0];
    for (let seed = 0; seed < 1200; seed++) {
      const m = topKMask(xe, valid, 1 / 3, seed);
      m.dataSync().forEach((x, i) => (counts[i]! += x));
      m.dispose();
    }
    // Binomial standard deviations at n = 1200: 0.0095, 0.0125, 0.014; allow 4 of them.
    expect(Math.abs(counts[0]! / 1200 - 1 / 8)).toBeLessThan(0.04);
    expect(Math.abs(counts[1]! / 1200 - 2 / 8)).toBeLessThan(0.05);
    expect(Math.abs(counts[2]! / 1200 - 5 / 8)).toBeLessThan(0.056);
    tf.dispose([xe, valid]);
  });

  it('is a constant for the gradient (zero, no TopK gradient needed) and leaks nothing', async () => {
    const xe = tf.variable(tf.tensor3d([[[1, 2, 5, 0.5]]]));
    const valid = tf.ones([1, 1, 4]) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(topKMask(xe as unknown as tf.Tensor3D, valid, 0.5, 1), xe)) as tf.Scalar, [xe]);
    const g = Array.from(Object.values(grads)[0]!.dataSync());
    const mask = topKMask(xe as unknown as tf.Tensor3D, valid, 0.5, 1);
    expect(g).toEqual(Array.from(mask.dataSync())); // d/dxe Σ mask·xe = mask: nothing flows through the mask
    await expectNoLeakedTensors(() => topKMask(xe as unknown as tf.Tensor3D, valid, 0.5, 2).dispose(), { what: 'topKMask' });
    tf.dispose([xe, valid, value, mask, ...Object.values(grads)]);
  });
});
