import '../register-gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { drawLogLikelihoods, halfSquaredNorm, labelLogLikelihood, oneHotMasked } from './loss.js';

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

describe('drawLogLikelihoods', () => {
  it('is Σ over labelled pixels of log softmax per draw, hand-computed; ignored pixels count nothing; labelLogLikelihood is its one-draw case', () => {
    // One image, two draws, two pixels, two classes; pixel 0 labelled class 0, pixel 1 ignored.
    const logits = tf.tensor5d([0, 0, 50, -50, 1, 0, -3, 9], [1, 2, 1, 2, 2]);
    const oneHot = tf.tensor4d([1, 0, 0, 0], [1, 1, 2, 2]);
    const ll = drawLogLikelihoods(logits, oneHot);
    expect(ll.shape).toEqual([1, 2]);
    const [a, b] = ll.dataSync();
    expect(a).toBeCloseTo(Math.log(0.5), 6);
    expect(b).toBeCloseTo(1 - Math.log(Math.E + 1), 6);
    const one = labelLogLikelihood(tf.reshape(tf.slice(logits, [0, 1], [1, 1]), [1, 1, 2, 2]) as tf.Tensor4D, oneHot);
    expect(one.dataSync()[0]).toBeCloseTo(b!, 6);
    tf.dispose([logits, oneHot, ll, one]);
  });

  it('refuses a target whose image shape differs from the draws\'', () => {
    const logits = tf.zeros([2, 3, 4, 5, 6]);
    const oneHot = tf.zeros([2, 4, 4, 6]);
    expect(() => drawLogLikelihoods(logits, oneHot)).toThrow(/logits \[G,S,…,K\] and a one-hot target \[G,…,K\] of the same image shape, got logits \[2,3,4,5,6\] and target \[2,4,4,6\]/);
    tf.dispose([logits, oneHot]);
  });
});
