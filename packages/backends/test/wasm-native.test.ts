import * as tf from '@tensorflow/tfjs-core';
import { backendCapabilities, conv2dSame, randomStandardNormal } from '@probunet/core/internal';
import { relativeL2Error, tolerance } from '@probunet/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';
import { nativeKernelCounters } from '../src/native-kernels/host.js';
import { adamSteps, fusedAdamKernels, sumOfSquaresRun } from './adam-steps.js';
import { drawLikelihoodRun } from './likelihood-run.js';

// Kernel by kernel: wasm-native's replacements against wasm's own kernels (and cpu where wasm has
// none), on the same inputs, including every fall-through case.

type Case = () => tf.Tensor;

/** Runs `run` on the reference backend, then on wasm-native, counting native and fallen-through calls. */
async function compare(run: Case, reference: 'wasm' | 'cpu'): Promise<{ native: Float32Array; ref: Float32Array; nativeCalls: number; fallbacks: number }> {
  await initBackend(reference);
  const r = tf.tidy(run);
  const ref = (await r.data()) as Float32Array;
  r.dispose();
  await initBackend('wasm-native');
  const before = nativeKernelCounters();
  const t = tf.tidy(run);
  const native = (await t.data()) as Float32Array;
  t.dispose();
  const after = nativeKernelCounters();
  return { native, ref, nativeCalls: after.native - before.native, fallbacks: after.fallback - before.fallback };
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe('wasm-native kernels', () => {
  beforeAll(async () => {
    await initBackend('wasm-native');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const convs: Array<[string, Case]> = [
    ['conv2d 3×3 same', () => tf.conv2d(rnd([2, 9, 7, 5], 1) as tf.Tensor4D, rnd([3, 3, 5, 6], 2) as tf.Tensor4D, 1, 'same')],
    ['conv2d 5×3 stride 2 valid', () => tf.conv2d(rnd([2, 11, 10, 3], 3) as tf.Tensor4D, rnd([5, 3, 3, 4], 4) as tf.Tensor4D, [2, 2], 'valid')],
    ['conv2d dilation 2', () => tf.conv2d(rnd([1, 12, 9, 4], 5) as tf.Tensor4D, rnd([3, 3, 4, 3], 6) as tf.Tensor4D, 1, 'same', 'NHWC', 2)],
    ['conv2d explicit padding', () => tf.conv2d(rnd([1, 6, 6, 2], 7) as tf.Tensor4D, rnd([3, 3, 2, 2], 8) as tf.Tensor4D, 1, [[0, 0], [2, 1], [0, 3], [0, 0]])],
    ['fused conv2d bias + relu', () => tf.fused.conv2d({ x: rnd([2, 8, 8, 16], 9) as tf.Tensor4D, filter: rnd([3, 3, 16, 24], 10) as tf.Tensor4D, strides: 1, pad: 'same', bias: rnd([24], 11), activation: 'relu' })],
    ['fused conv2d leakyrelu', () => tf.fused.conv2d({ x: rnd([1, 8, 8, 4], 12) as tf.Tensor4D, filter: rnd([3, 3, 4, 4], 13) as tf.Tensor4D, strides: 1, pad: 'same', bias: rnd([4], 14), activation: 'leakyrelu', leakyreluAlpha: 0.3 })],
    ['fused conv2d elu, no bias', () => tf.fused.conv2d({ x: rnd([1, 8, 8, 4], 15) as tf.Tensor4D, filter: rnd([1, 1, 4, 4], 16) as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'elu' })],
    ['matMul', () => tf.matMul(rnd([37, 300], 17), rnd([300, 41], 18))],
    ['matMul transposed both', () => tf.matMul(rnd([300, 37], 19), rnd([41, 300], 20), true, true)],
    ['batched matMul', () => tf.matMul(rnd([3, 5, 7], 21), rnd([3, 7, 4], 22))],
    ['batched matMul, b broadcast', () => tf.matMul(rnd([2, 3, 5, 7], 23), rnd([7, 4], 24))],
    ['sum over the leading axes (a bias gradient)', () => tf.sum(rnd([4, 16, 16, 24], 70), [0, 1, 2])],
    ['sum over leading axes, keepDims, axes unordered', () => tf.sum(rnd([3, 5, 7], 71), [1, 0], true)],
    ['sum over every axis', () => tf.sum(rnd([6, 300, 5], 72))],
    ['split along the channel axis', () => tf.concat(tf.split(rnd([2, 8, 8, 10], 73), [3, -1, 2], -1).map((t, i) => tf.mul(t, i + 1)), 3)],
    ['avg-pool gradient 2×2 stride 2', () => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'))))(rnd([2, 8, 8, 3], 74))],
    ['avg-pool gradient 3×3 stride 2 (overlapping windows)', () => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, 3, 2, 'valid'))))(rnd([2, 9, 9, 3], 75))],
    ['identity (shares the data) then arithmetic on both', () => { const x = rnd([4, 5], 79); const y = tf.clone(x); return tf.concat([tf.add(y, 1), x]); }],
    ['fused matMul bias + sigmoid', () => tf.fused.matMul({ a: rnd([20, 30], 25) as tf.Tensor2D, b: rnd([30, 10], 26) as tf.Tensor2D, bias: rnd([10], 27), activation: 'sigmoid' })],
  ];
  for (const [name, run] of convs) {
    it(`${name} runs natively and matches wasm`, async () => {
      const r = await compare(run, 'wasm');
      expect(r.nativeCalls).toBeGreaterThan(0);
      expect(r.fallbacks).toBe(0);
      expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
    });
  }

  const fallThrough: Array<[string, Case]> = [
    ['prelu activation', () => tf.fused.matMul({ a: rnd([4, 6], 28) as tf.Tensor2D, b: rnd([6, 5], 29) as tf.Tensor2D, activation: 'prelu', preluActivationWeights: rnd([5], 30) })],
    ['a sum over trailing axes', () => tf.sum(rnd([4, 6, 5], 76), [2])],
    ['a split along a leading axis', () => tf.concat(tf.split(rnd([6, 4, 3], 77), 3, 0).map((t, i) => tf.mul(t, i + 1)), 0)],
    ['a padded (SAME) avg-pool gradient', () => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'))))(rnd([1, 7, 7, 2], 78))],
    ['batch dims that need true broadcasting', () => tf.matMul(rnd([2, 1, 3, 4], 34), rnd([1, 2, 4, 5], 35))],
  ];
  for (const [name, run] of fallThrough) {
    it(`${name} falls through to wasm's kernel`, async () => {
      const r = await compare(run, 'wasm');
      expect(r.fallbacks).toBeGreaterThan(0);
      expect(relativeL2Error(r.native, r.ref)).toBeLessThan(1e-6);
    });
  }

  // wasm has no Conv2DBackpropFilter at all, so the gradients are checked against cpu's kernels.
  const filterGrad = (xShape: number[], fShape: number[], strides: number, pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]], seed: number): Case => () => {
    const x = rnd(xShape, seed) as tf.Tensor4D;
    return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, pad), 0.5)))(rnd(fShape, seed + 1));
  };
  const inputGrad = (xShape: number[], fShape: number[], strides: number, pad: 'same' | 'valid', seed: number): Case => () => {
    const f = rnd(fShape, seed + 1) as tf.Tensor4D;
    return tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, f, strides, pad))))(rnd(xShape, seed));
  };
  const grads: Array<[string, Case, boolean]> = [
    ['filter gradient, 3×3 same', filterGrad([2, 9, 8, 5], [3, 3, 5, 4], 1, 'same', 40), true],
    ['filter gradient, stride 2 valid', filterGrad([2, 11, 10, 3], [3, 3, 3, 4], 2, 'valid', 42), true],
    ['filter gradient, explicit padding', filterGrad([1, 7, 7, 2], [3, 3, 2, 3], 1, [[0, 0], [2, 0], [1, 2], [0, 0]], 44), true],
    ['input gradient, 3×3 same', inputGrad([2, 9, 8, 5], [3, 3, 5, 4], 1, 'same', 46), true],
    ['input gradient, 5×5 valid', inputGrad([1, 9, 9, 3], [5, 5, 3, 2], 1, 'valid', 48), true],
    ['input gradient, stride 2 (wasm kernel)', inputGrad([1, 10, 10, 3], [3, 3, 3, 2], 2, 'same', 50), false],
  ];
  for (const [name, run, nativeBackprop] of grads) {
    it(`${name} matches cpu`, async () => {
      const r = await compare(run, 'cpu');
      expect(r.nativeCalls).toBeGreaterThan(0);
      if (!nativeBackprop) expect(r.fallbacks).toBeGreaterThan(0);
      expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
    });
  }

  it("core's conv gradient runs the native backprop kernels and agrees with its forward-conv form on cpu", async () => {
    const run: Case = () => {
      const x = rnd([2, 12, 12, 6], 60) as tf.Tensor4D;
      const w = rnd([3, 3, 6, 5], 61) as tf.Tensor4D;
      const b = rnd([5], 62) as tf.Tensor1D;
      const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.square(conv2dSame(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, 'relu'))))([x, w, b]);
      return tf.concat(g.map((t) => tf.reshape(t, [-1])));
    };
    await initBackend('cpu');
    expect(backendCapabilities().exactConvBackprop).toBe(false);
    await initBackend('wasm-native');
    expect(tf.getBackend()).toBe('wasm-native');
    expect(backendCapabilities().exactConvBackprop).toBe(true);
    const r = await compare(run, 'cpu');
    expect(r.nativeCalls).toBeGreaterThanOrEqual(3); // forward conv, input and filter gradients
    expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
  });

  it("core's sumOfSquares is one ProbunetSumSquares call on wasm-native, with cpu's chain's value", async () => {
    const ref = await sumOfSquaresRun('cpu');
    expect(ref.kernels).toContain('Square');
    const got = await sumOfSquaresRun('wasm-native');
    expect(got.kernels).toEqual(['ProbunetSumSquares']);
    expect(Math.abs(got.value - ref.value) / ref.value).toBeLessThan(1e-6);
  });

  it("core's draw log-likelihoods and noise take the fused kernels on wasm-native (on the wasm heap), with cpu's chain's values", async () => {
    const ref = await drawLikelihoodRun('cpu');
    const got = await drawLikelihoodRun('wasm-native');
    expect(got.kernels.filter((k) => k.startsWith('Probunet'))).toEqual(['ProbunetSoftmaxLogLikelihood', 'ProbunetSoftmaxLogLikelihoodGrad']);
    expect(relativeL2Error(got.ll, ref.ll)).toBeLessThan(1e-6);
    expect(relativeL2Error(got.grad, ref.grad)).toBeLessThan(1e-5);
    expect(relativeL2Error(got.single, ref.single)).toBeLessThan(1e-6);
    expect(got.growth).toBe(0);
    const noise = randomStandardNormal([3, 50_000], 5);
    const values = await noise.data();
    noise.dispose();
    let mean = 0;
    for (const v of values) mean += v / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.013); // 5 s.e. at 150,000 values
    const again = randomStandardNormal([3, 50_000], 5);
    expect(await again.data()).toEqual(values);
    again.dispose();
  });

  it("core's fused relu gradient and Adam update run here too, with cpu's values", async () => {
    await initBackend('wasm-native');
    expect(backendCapabilities()).toMatchObject({ fusedReluGrad: true, fusedAdam: true, fusedSumSquares: true, fusedSoftmaxLikelihood: true, fusedRandomNormal: true });
    expect(await fusedAdamKernels()).toEqual({ fused: true, chain: [] });
    const ref = await adamSteps('cpu');
    const got = await adamSteps('wasm-native');
    expect(got.weights).toEqual(ref.weights);
    expect(got.state).toEqual(ref.state);
    for (let i = 0; i < 3; i++) expect(Math.abs(got.norms[i]! - ref.norms[i]!) / ref.norms[i]!).toBeLessThan(1e-5);
  });

  it('plain wasm stays stock beside it: no native kernel, no capability, one shared heap', async () => {
    await initBackend('wasm-native');
    const shared = tf.backend();
    const kept = rnd([4, 4], 35);
    await initBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.backend()).toBe(shared); // one wasm instance under two names
    const before = nativeKernelCounters();
    tf.tidy(() => tf.matMul(rnd([8, 8], 36), rnd([8, 8], 37)).dataSync());
    expect(Array.from(tf.tidy(() => tf.add(kept, 0)).dataSync())).toEqual(Array.from(kept.dataSync()));
    kept.dispose();
    expect(nativeKernelCounters()).toEqual(before);
    expect(backendCapabilities()).toEqual({ exactConvBackprop: false, exactFilterGrad: false, fusedReluGrad: false, fusedAdam: false, fusedSumSquares: false, fusedSoftmaxLikelihood: false, fusedRandomNormal: false });
    // ...and wasm is back to having no filter gradient, as without the native kernels.
    expect(() => tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(rnd([1, 4, 4, 1], 1) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')))(rnd([3, 3, 1, 1], 2)))).toThrow(/Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'/);
  });

  it('allocates no tensor that outlives its kernel', async () => {
    await initBackend('wasm-native');
    const x = rnd([2, 16, 16, 8], 38) as tf.Tensor4D;
    const w = rnd([3, 3, 8, 8], 39) as tf.Tensor4D;
    const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const before = tf.memory().numTensors;
    const idsBefore = numDataIds();
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.conv2d(tf.reshape(tf.matMul(tf.reshape(x, [512, 8]), tf.slice(tf.reshape(w, [72, 8]), [0, 0], [8, 8])), [2, 16, 16, 8]) as tf.Tensor4D, w, 1, 'same'));
    // A shared identity's data lives until both tensors are gone.
    const xValues = Array.from(await x.data());
    const kept = tf.clone(x);
    x.dispose();
    expect(Array.from(await kept.data())).toEqual(xValues);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
    // The backend's own bookkeeping, too: nothing left on the wasm heap.
    expect(numDataIds()).toBe(idsBefore - 1);
    w.dispose();
  });
});
