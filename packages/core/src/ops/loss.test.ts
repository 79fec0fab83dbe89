import '../register-gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { halfSquaredNorm, oneHotMasked } from './loss.js';

describe('halfSquaredNorm', () => {
  it('is ½Σw² over every kernel, hand-computed, and 0 for none', () => {
    const a = tf.tensor1d([1, -2, 3]);
    const b = tf.tensor2d([[0.5, 4]]);
    expect(halfSquaredNorm([a, b]).dataSync()[0]).toBeCloseTo(0.5 * (1 + 4 + 9 + 0.25 + 16), 6);
    expect(halfSquaredNorm([]).dataSync()[0]).toBe(0);
    tf.dispose([a, b]);
  });

  it('its gradient is w·dy per kernel, as the op-by-op chain gives it, with no tensor left behind', () => {
    const ws = [tf.randomNormal([3, 3, 4, 5], 0, 1, 'float32', 1), tf.randomNormal([7], 0, 1, 'float32', 2)];
    const before = tf.memory().numTensors;
    const scale = 3;
    const ours = tf.grads((...k: tf.Tensor[]) => tf.mul(halfSquaredNorm(k), scale))(ws);
    const chain = tf.grads((...k: tf.Tensor[]) => tf.mul(tf.mul(tf.addN(k.map((t) => tf.sum(tf.square(t)))), 0.5), scale))(ws);
    ours.forEach((g, i) =>
      tf.tidy(() => {
        expect(Array.from(g.dataSync())).toEqual(Array.from(tf.mul(ws[i]!, scale).dataSync()));
        expect(tf.max(tf.abs(tf.sub(g, chain[i]!))).dataSync()[0]).toBeLessThan(1e-6);
      }),
    );
    tf.dispose([...ours, ...chain]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(ws);
  });
});

describe('oneHotMasked', () => {
  const labels = tf.tensor3d([[[0, 1, 2], [255, -1, 1]]], [1, 2, 3], 'int32');
  it('ignore label outside the classes (255): its pixels, and any label outside [0, K), are all-zero rows', () => {
    const got = oneHotMasked(labels, 3, 255);
    expect(got.dtype).toBe('float32');
    expect(got.arraySync()).toEqual([[[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 0], [0, 1, 0]]]]);
    got.dispose();
  });
  it('ignore label inside the classes (1): masked out, the other classes encoded', () => {
    const got = oneHotMasked(labels, 3, 1);
    expect(got.arraySync()).toEqual([[[[1, 0, 0], [0, 0, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]]]);
    got.dispose();
  });
});
