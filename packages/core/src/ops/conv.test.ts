import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectTensorClose, numericalGradient } from '../testing/index.js';
import { conv2dSame } from './conv.js';

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

describe('conv2dSame', () => {
  it('computes a hand-checkable 3×3 case: all-ones kernel sums each neighbourhood', () => {
    // 3×3 image 1..9, all-ones 3×3 kernel, SAME: the centre sees all nine (45), a corner four.
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const y = conv2dSame(x, w, tf.tensor1d([0.5]));
    expectTensorClose(y, [12.5, 21.5, 16.5, 27.5, 45.5, 33.5, 24.5, 39.5, 28.5]);
  });

  it.each([
    [3, 'relu'],
    [3, 'linear'],
    [1, 'relu'],
    [1, 'linear'],
  ] as const)('forward matches tf.conv2d + bias + activation (k=%i, %s)', (k, act) => {
    const x = rand([2, 6, 5, 3], 1) as tf.Tensor4D;
    const w = rand([k, k, 3, 4], 2) as tf.Tensor4D;
    const b = rand([4], 3) as tf.Tensor1D;
    const ref = tf.add(tf.conv2d(x, w, 1, 'same'), b);
    expectTensorClose(conv2dSame(x, w, b, act), act === 'relu' ? tf.relu(ref) : ref, { atol: 1e-5 });
  });

  it.each([3, 1])('gradients match central finite differences (k=%i)', (k) => {
    const x = rand([2, 5, 4, 2], 4) as tf.Tensor4D;
    const w = rand([k, k, 2, 3], 5) as tf.Tensor4D;
    const b = rand([3], 6) as tf.Tensor1D;
    const target = rand([2, 5, 4, 3], 7);
    // A smooth loss; linear activation so finite differences do not straddle ReLU kinks.
    const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.sin(conv2dSame(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, 'linear')), target)) as tf.Scalar;
    const [dx, dw, db] = tf.grads(loss)([x, w, b]);
    expectTensorClose(dx!, numericalGradient((v) => loss(v, w, b), x), { atol: 2e-3, rtol: 2e-2, what: 'dx' });
    expectTensorClose(dw!, numericalGradient((v) => loss(x, v, b), w), { atol: 2e-3, rtol: 2e-2, what: 'dW' });
    expectTensorClose(db!, numericalGradient((v) => loss(x, w, v), b), { atol: 2e-3, rtol: 2e-2, what: 'db' });
  });

  it('gradients match the stock TensorFlow.js kernels, ReLU included', () => {
    const x = rand([3, 8, 8, 4], 8) as tf.Tensor4D;
    const w = rand([3, 3, 4, 5], 9) as tf.Tensor4D;
    const b = rand([5], 10) as tf.Tensor1D;
    const dyWeights = rand([3, 8, 8, 5], 11);
    const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(conv2dSame(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, 'relu'), dyWeights)) as tf.Scalar,
    )([x, w, b]);
    const stock = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(tf.relu(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'), bb)), dyWeights)) as tf.Scalar,
    )([x, w, b]);
    ['dx', 'dW', 'db'].forEach((what, i) => expectTensorClose(ours[i]!, stock[i]!, { atol: 1e-4, rtol: 1e-4, what }));
  });

  it("computes the input's gradient only when it is asked for (a first layer's image), and frees its temporaries", async () => {
    const x = rand([2, 6, 6, 3], 12) as tf.Tensor4D;
    const w = rand([3, 3, 3, 4], 13) as tf.Tensor4D;
    const b = rand([4], 14) as tf.Tensor1D;
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(conv2dSame(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, 'relu'))) as tf.Scalar;
    const before = tf.memory().numTensors;
    // The input gradient's formulation on cpu rotates the filter (Reverse); the filter's does not.
    const paramsOnly = await tf.profile(() => tf.dispose(tf.grads((ww: tf.Tensor, bb: tf.Tensor) => f(x, ww, bb))([w, b])));
    expect(paramsOnly.kernelNames).not.toContain('Reverse');
    const all = await tf.profile(() => tf.dispose(tf.grads(f)([x, w, b])));
    expect(all.kernelNames).toContain('Reverse');
    const inputOnly = await tf.profile(() => tf.dispose(tf.grads((xx: tf.Tensor) => f(xx, w, b))([x])));
    expect(inputOnly.kernelNames).toContain('Reverse');
    expect(tf.memory().numTensors).toBe(before);
    // Each subset agrees with the full gradient.
    const [dx, dw, db] = tf.grads(f)([x, w, b]);
    const [dw2, db2] = tf.grads((ww: tf.Tensor, bb: tf.Tensor) => f(x, ww, bb))([w, b]);
    const [dx2] = tf.grads((xx: tf.Tensor) => f(xx, w, b))([x]);
    expectTensorClose(dw2!, dw!, { atol: 0, rtol: 0, what: 'dW' });
    expectTensorClose(db2!, db!, { atol: 0, rtol: 0, what: 'db' });
    expectTensorClose(dx2!, dx!, { atol: 0, rtol: 0, what: 'dx' });
  });

  it('rejects even or non-square kernels', () => {
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => conv2dSame(x, tf.zeros([2, 2, 1, 1]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D)).toThrow(/odd square kernel/);
  });
});
