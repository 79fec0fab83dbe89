import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { sumAll } from './sum.js';

it.each([0, 1, 4, 5, 17, 103])('sums %i tensors exactly as one addN would', (n) => {
  const ts = Array.from({ length: n }, (_, i) => tf.fill([2, 3], i + 1));
  const before = tf.memory().numTensors;
  const s = sumAll(ts);
  expect(tf.memory().numTensors).toBe(before + 1);
  const expected = (n * (n + 1)) / 2;
  expect(Array.from(s.dataSync())).toEqual(n === 0 ? [0] : Array(6).fill(expected));
  tf.dispose([s, ...ts]);
});
