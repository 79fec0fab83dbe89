import * as tf from '@tensorflow/tfjs-core';
import { backendCapabilities, conv2dSame, randomStandardNormal } from '@probunet/core/internal';
import { relativeL2Error, tolerance } from '@probunet/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';
import { nativeKernelCounters } from '../src/native-kernels/host.js';
import { adamSteps, fusedAdamKernels, sumOfSquaresRun } from './adam-steps.js';
import { drawLikelihoodRun } from './likelihood-run.js';
import { nativePoolStats } from '../src/native/backend.js';
import { collapseBroadcast, repeatsAlongLeadingAxes } from '../src/native-kernels/elementwise.js';

// Kernel by kernel: the native backend's kernels against the pure-JS cpu backend's own on the same
// inputs, including every fall-through case. CI compiles @probunet/native, so there it must load.

type Case = () => tf.Tensor;

async function loads(): Promise<boolean> {
  try {
    await initBackend('native');
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`native does not load here, its cases are skipped: ${(err as Error).message}`);
    return false;
  } finally {
    await tf.setBackend('cpu');
  }
}
const available = await loads();

/** Runs `run` on cpu, then on native, counting native and fallen-through calls. */
async function compare(run: Case): Promise<{ native: Float32Array; ref: Float32Array; nativeCalls: number; fallbacks: number }> {
  await initBackend('cpu');
  const r = tf.tidy(run);
  const ref = (await r.data()) as Float32Array;
  r.dispose();
  await initBackend('native');
  const before = nativeKernelCounters();
  const t = tf.tidy(run);
  const native = (await t.data()) as Float32Array;
  t.dispose();
  const after = nativeKernelCounters();
  return { native, ref, nativeCalls: after.native - before.native, fallbacks: after.fallback - before.fallback };
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const positive = (shape: number[], seed: number) => tf.randomUniform(shape, 0.1, 3, 'float32', seed);

describe('repeatsAlongLeadingAxes (which broadcasts the native element-wise kernels take)', () => {
  it.each([
    [[5], [2, 3, 5], true],
    [[3, 5], [2, 3, 5], true],
    [[1, 3, 5], [2, 3, 5], true],
    [[1], [2, 3, 5], true],
    [[1, 1, 1], [2, 3, 5], true],
    [[2, 3, 5], [2, 3, 5], true],
    [[2, 1, 5], [2, 3, 5], false],
    [[3, 1], [2, 3, 5], false],
    [[2, 1, 1], [2, 3, 5], false],
  ] as Array<[number[], number[], boolean]>)('%j into %j: %s', (shape, out, want) => {
    expect(repeatsAlongLeadingAxes(shape, out)).toBe(want);
  });
});

describe('collapseBroadcast (the general broadcast on four dimensions)', () => {
  it('a per-image vector over the positions: [8, 16384, 32] + [8, 1, 32]', () => {
    expect(collapseBroadcast([8, 16384, 32], [8, 1, 32], [8, 16384, 32])).toEqual({ dims: [1, 8, 16384, 32], aStrides: [0, 16384 * 32, 32, 1], bStrides: [0, 32, 0, 1] });
  });
  it('merges axes that broadcast alike and drops size-1 axes', () => {
    expect(collapseBroadcast([8, 1, 1, 192], [8, 16, 16, 192], [8, 16, 16, 192])).toEqual({ dims: [1, 8, 256, 192], aStrides: [0, 192, 0, 1], bStrides: [0, 256 * 192, 192, 1] });
    expect(collapseBroadcast([3, 4, 2], [3, 4, 1], [3, 4, 2])).toEqual({ dims: [1, 1, 12, 2], aStrides: [0, 0, 2, 1], bStrides: [0, 0, 1, 0] });
  });
  it('more than four alternating groups: null (the cpu kernel runs)', () => {
    expect(collapseBroadcast([2, 1, 2, 1, 2], [1, 3, 1, 3, 1], [2, 3, 2, 3, 2])).toBeNull();
  });
});

describe.skipIf(!available)('native backend kernels', () => {
  beforeAll(async () => {
    await initBackend('native');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const nativeCases: Array<[string, Case]> = [
    ['conv2d 3×3 same', () => tf.conv2d(rnd([2, 9, 7, 5], 1) as tf.Tensor4D, rnd([3, 3, 5, 6], 2) as tf.Tensor4D, 1, 'same')],
    ['conv2d 5×3 stride 2 valid', () => tf.conv2d(rnd([2, 11, 10, 3], 3) as tf.Tensor4D, rnd([5, 3, 3, 4], 4) as tf.Tensor4D, [2, 2], 'valid')],
    ['conv2d on a slice (a view into another tensor’s buffer)', () => tf.conv2d(tf.slice(rnd([3, 8, 8, 4], 5), [1, 0, 0, 0], [2, 8, 8, 4]) as tf.Tensor4D, rnd([3, 3, 4, 3], 6) as tf.Tensor4D, 1, 'same')],
    ['fused conv2d bias + relu', () => tf.fused.conv2d({ x: rnd([2, 8, 8, 16], 9) as tf.Tensor4D, filter: rnd([3, 3, 16, 24], 10) as tf.Tensor4D, strides: 1, pad: 'same', bias: rnd([24], 11), activation: 'relu' })],
    ['matMul transposed both', () => tf.matMul(rnd([300, 37], 19), rnd([41, 300], 20), true, true)],
    ['batched matMul, b broadcast', () => tf.matMul(rnd([2, 3, 5, 7], 23), rnd([7, 4], 24))],
    ['sum over the leading axes (a bias gradient)', () => tf.sum(rnd([4, 16, 16, 24], 70), [0, 1, 2])],
    ['split along the channel axis', () => tf.concat(tf.split(rnd([2, 8, 8, 10], 73), [3, -1, 2], -1).map((t, i) => tf.mul(t, i + 1)), 3)],
    ['avg-pool gradient 2×2 stride 2', () => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'))))(rnd([2, 8, 8, 3], 74))],
    // Element-wise, large enough (> 2^15 values) that the thread pool splits them.
    ['add, same shapes', () => tf.add(rnd([4, 32, 32, 16], 80), rnd([4, 32, 32, 16], 81))],
    ['add a bias over [N, H, W, C]', () => tf.add(rnd([4, 32, 32, 16], 82), rnd([16], 83))],
    ['sub a scalar from a tensor and a tensor from a scalar', () => tf.concat([tf.sub(rnd([70000], 84), 2.5), tf.sub(1.5, rnd([70000], 85))])],
    ['mul by a [W, C] slab over [N, H, W, C]', () => tf.mul(rnd([3, 20, 24, 8], 86), rnd([24, 8], 87))],
    ['div', () => tf.div(rnd([70001], 88), positive([70001], 89))],
    ['maximum and minimum', () => tf.concat([tf.maximum(rnd([5000], 90), rnd([5000], 91)), tf.minimum(rnd([5000], 92), 0.25)])],
    ['squared difference', () => tf.squaredDifference(rnd([300, 7], 93), rnd([7], 94))],
    ['relu, step (the relu gradient), neg, abs', () => tf.concat([tf.relu(rnd([65537], 95)), tf.step(rnd([1000], 96), 0.3), tf.neg(rnd([1000], 97)), tf.abs(rnd([1000], 98))])],
    ['sqrt, rsqrt, square, reciprocal, log, log1p', () => tf.concat([tf.sqrt(positive([999], 99)), tf.rsqrt(positive([999], 100)), tf.square(rnd([999], 101)), tf.reciprocal(positive([999], 102)), tf.log(positive([999], 103)), tf.log1p(positive([999], 104))])],
    ['exp, sigmoid, tanh, softplus (with the thresholds)', () => tf.concat([tf.exp(rnd([999], 105)), tf.sigmoid(tf.mul(rnd([999], 106), 6)), tf.tanh(rnd([999], 107)), tf.softplus(tf.mul(rnd([4000], 108), 20))])],
    ['addN', () => tf.addN([rnd([40000], 109), rnd([40000], 110), rnd([40000], 111), rnd([40000], 112)])],
    ['add a per-image vector over the positions ([8, 100, 32] + [8, 1, 32])', () => tf.add(rnd([8, 100, 32], 113), rnd([8, 1, 32], 114))],
    ['mul [2, 1, 1, 12] by [2, 5, 6, 12], and the other way round', () => tf.concat([tf.mul(rnd([2, 1, 1, 12], 115), rnd([2, 5, 6, 12], 116)), tf.div(rnd([2, 5, 6, 12], 117), positive([2, 1, 1, 12], 118))])],
    ['sub along the last axis ([3, 4, 2] − [3, 4, 1]) and a three-way broadcast', () => tf.concat([tf.reshape(tf.sub(rnd([3, 4, 2], 119), rnd([3, 4, 1], 120)), [-1]), tf.reshape(tf.maximum(rnd([5, 1, 7], 121), rnd([1, 6, 1], 122)), [-1])])],
    ['sum over a middle axis, keepDims', () => tf.sum(rnd([8, 300, 32], 123), 1, true)],
    ['sum over the trailing axes (a softmax’s denominator)', () => tf.sum(rnd([6, 50, 40], 124), [1, 2])],
    ['max over the classes (log-softmax), over a middle run with keepDims, and over everything', () => tf.concat([tf.reshape(tf.max(rnd([8, 64, 64, 2], 137), -1), [-1]), tf.reshape(tf.max(rnd([4, 30, 20, 3], 138), [1, 2], true), [-1]), tf.reshape(tf.max(rnd([300, 7], 139)), [1])])],
    ['a [N, H, W, 2] × [N, H, W, 1] product (two-wide rows of a four-dimension broadcast)', () => tf.mul(rnd([8, 64, 64, 2], 140), rnd([8, 64, 64, 1], 141))],
    ['log-softmax over the classes and its gradient', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(t), rnd([4, 32, 32, 3], 143))))(rnd([4, 32, 32, 3], 142))],
    ['mean over the spatial axes, keepDims, and over everything', () => tf.concat([tf.reshape(tf.mean(rnd([4, 16, 16, 12], 132), [1, 2], true), [-1]), tf.reshape(tf.mean(rnd([300, 7], 133)), [1])])],
    ['avg pool 2×2 stride 2', () => tf.avgPool(rnd([2, 16, 16, 8], 125) as tf.Tensor4D, 2, 2, 'valid')],
    ['avg pool 3×3 stride 2 (overlapping windows)', () => tf.avgPool(rnd([1, 9, 9, 3], 126) as tf.Tensor4D, 3, 2, 'valid')],
    ['bilinear upsampling ×2 with aligned corners (the U-Net decoder) and its gradient', () => {
      const x = rnd([2, 8, 8, 6], 134) as tf.Tensor4D;
      const up = tf.image.resizeBilinear(x, [16, 16], true);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, [16, 16], true), rnd([2, 16, 16, 6], 135))))(x);
      return tf.concat([tf.reshape(up, [-1]), tf.reshape(g, [-1])]);
    }],
    ['bilinear resize to a non-square size, half-pixel centres', () => tf.image.resizeBilinear(rnd([1, 5, 7, 3], 136) as tf.Tensor4D, [9, 4], false, true)],
    ['one-hot in float32 (a label map with an ignore label 255 and a -1), and 0/-1 as off/on values', () => {
      const labels = tf.tensor3d(Array.from({ length: 2 * 33 * 31 }, (_, i) => [0, 1, 2, 255, -1][(i * 7) % 5]!), [2, 33, 31], 'int32');
      return tf.concat([tf.reshape(tf.oneHot(labels, 3, 1, 0, 'float32'), [-1]), tf.reshape(tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), 4, -1, 0.5, 'float32'), [-1])]);
    }],
    ['concat along the channels (a skip connection) and along a middle axis', () => tf.concat([tf.reshape(tf.concat([rnd([2, 8, 8, 5], 127), rnd([2, 8, 8, 3], 128)], 3), [-1]), tf.reshape(tf.concat([rnd([2, 3, 4], 129), rnd([2, 1, 4], 130), rnd([2, 0, 4], 131)], 1), [-1])])],
  ];
  for (const [name, run] of nativeCases) {
    it(`${name} runs natively and matches cpu`, async () => {
      const r = await compare(run);
      expect(r.nativeCalls).toBeGreaterThan(0);
      expect(r.fallbacks).toBe(0);
      expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
    });
  }

  it('NaN passes through max, min, relu, step and a max reduction as on cpu', async () => {
    const run: Case = () => {
      const x = tf.tensor1d([NaN, -1, 2, NaN]);
      const rows = tf.tensor2d([[1, NaN, 3], [NaN, 0, -2], [4, 5, 6]]);
      return tf.concat([tf.maximum(x, 0), tf.minimum(x, 0), tf.relu(x), tf.step(x, 0.5), tf.max(rows, 1), tf.max(rows, 0)]);
    };
    const r = await compare(run);
    expect(r.fallbacks).toBe(0);
    expect(Array.from(r.native).map(String)).toEqual(Array.from(r.ref).map(String));
  });

  const fallThrough: Array<[string, Case]> = [
    ['an add whose broadcast needs five dimensions', () => tf.reshape(tf.add(rnd([2, 1, 2, 1, 2], 120), rnd([1, 3, 1, 3, 1], 121)), [-1])],
    ['an int32 add', () => tf.cast(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')), 'float32')],
    ['a sum over axes that are not contiguous', () => tf.sum(rnd([4, 6, 5], 76), [0, 2])],
    ['a padded (SAME) avg pool', () => tf.avgPool(rnd([1, 7, 7, 2], 77) as tf.Tensor4D, 3, 2, 'same')],
    ['a padded (SAME) avg-pool gradient', () => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'))))(rnd([1, 7, 7, 2], 78))],
  ];
  for (const [name, run] of fallThrough) {
    it(`${name} falls through to cpu's kernel`, async () => {
      const r = await compare(run);
      expect(r.fallbacks).toBeGreaterThan(0);
      expect(relativeL2Error(r.native, r.ref)).toBeLessThan(1e-6);
    });
  }

  it("core's conv gradient runs the native backprop kernels (exactConvBackprop) and matches cpu", async () => {
    const run: Case = () => {
      const x = rnd([2, 12, 12, 6], 60) as tf.Tensor4D;
      const w = rnd([3, 3, 6, 5], 61) as tf.Tensor4D;
      const b = rnd([5], 62) as tf.Tensor1D;
      const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.square(conv2dSame(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, 'relu'))))([x, w, b]);
      return tf.concat(g.map((t) => tf.reshape(t, [-1])));
    };
    await initBackend('native');
    expect(tf.getBackend()).toBe('native');
    expect(backendCapabilities().exactConvBackprop).toBe(true);
    const r = await compare(run);
    expect(r.nativeCalls).toBeGreaterThanOrEqual(3);
    expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
  });

  it("core's relu-conv gradient takes the fused relu-and-bias gradient (one native call) and matches cpu's chain", async () => {
    await initBackend('native');
    expect(backendCapabilities().fusedReluGrad).toBe(true);
    const run: Case = () => {
      // Large enough for both threads' bands; y has zeros and negatives (relu's dead side).
      const x = rnd([4, 40, 40, 8], 63) as tf.Tensor4D;
      const w = rnd([3, 3, 8, 16], 64) as tf.Tensor4D;
      const b = rnd([16], 65) as tf.Tensor1D;
      const dy = rnd([4, 40, 40, 16], 66);
      const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(conv2dSame(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, 'relu'), dy)))([x, w, b]);
      return tf.concat(g.map((t) => tf.reshape(t, [-1])));
    };
    const r = await compare(run);
    expect(relativeL2Error(r.native, r.ref)).toBeLessThan(tolerance('kernel'));
    const prof = await tf.profile(() => tf.tidy(run));
    expect(prof.kernelNames).toContain('ProbunetReluGradBias');
    expect(prof.kernelNames).not.toContain('Step');
    tf.dispose(prof.result as tf.Tensor);
    // The bias gradient alone: the last 16 values.
    expect(relativeL2Error(r.native.subarray(-16), r.ref.subarray(-16))).toBeLessThan(1e-5);
  });

  it("core's Adam takes the fused update on native: the same weights, moments and Σu² as cpu's chain, first and later steps, no tensor growth", async () => {
    const ref = await adamSteps('cpu');
    const got = await adamSteps('native');
    expect(await fusedAdamKernels()).toEqual({ fused: true, chain: [] });
    expect(got.weights).toEqual(ref.weights);
    expect(got.state).toEqual(ref.state);
    for (let i = 0; i < 3; i++) expect(Math.abs(got.norms[i]! - ref.norms[i]!) / ref.norms[i]!).toBeLessThan(1e-5);
  });

  it("core's sumOfSquares is one ProbunetSumSquares call on native, with cpu's chain's value", async () => {
    const ref = await sumOfSquaresRun('cpu');
    expect(ref.kernels).toContain('Square');
    const got = await sumOfSquaresRun('native');
    expect(got.kernels).toEqual(['ProbunetSumSquares']);
    expect(Math.abs(got.value - ref.value) / ref.value).toBeLessThan(1e-6);
  });

  it("core's randomStandardNormal is one ProbunetRandomNormal call on native: reproducible from its seed, standard-normal moments", async () => {
    await initBackend('native');
    const prof = await tf.profile(() => randomStandardNormal([4, 10, 32, 64, 24], 99));
    expect(prof.kernelNames).toEqual(['ProbunetRandomNormal']);
    tf.dispose(prof.result as tf.Tensor);
    const before = tf.memory().numTensors;
    const [a, b, c] = [randomStandardNormal([4, 10, 32, 64, 24], 99), randomStandardNormal([4, 10, 32, 64, 24], 99), randomStandardNormal([7], 100)];
    expect(a.shape).toEqual([4, 10, 32, 64, 24]);
    const [av, bv] = [await a.data(), await b.data()];
    expect(bv).toEqual(av);
    const n = av.length;
    let mean = 0;
    for (const v of av) mean += v / n;
    let variance = 0;
    for (const v of av) variance += (v - mean) ** 2 / n;
    expect(Math.abs(mean)).toBeLessThan(0.003); // 5 s.e. at 786,432 values
    expect(Math.abs(variance - 1)).toBeLessThan(0.008);
    expect((await c.data()).length).toBe(7);
    tf.dispose([a, b, c]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("core's draw log-likelihoods (the SSN's Monte-Carlo loss) are one fused kernel each way on native, with cpu's chain's values and gradient, no tensor growth", async () => {
    const ref = await drawLikelihoodRun('cpu');
    expect(ref.kernels).toEqual(expect.arrayContaining(['Max', 'Exp', 'Log']));
    const got = await drawLikelihoodRun('native');
    expect(got.kernels.filter((k) => k.startsWith('Probunet'))).toEqual(['ProbunetSoftmaxLogLikelihood', 'ProbunetSoftmaxLogLikelihoodGrad']);
    expect(got.kernels.filter((k) => ['Max', 'Exp', 'Log'].includes(k))).toEqual([]);
    expect(relativeL2Error(got.ll, ref.ll)).toBeLessThan(1e-6);
    expect(relativeL2Error(got.grad, ref.grad)).toBeLessThan(1e-5);
    expect(relativeL2Error(got.single, ref.single)).toBeLessThan(1e-6);
    expect([got.growth, ref.growth]).toEqual([0, 0]);
  });

  it('cpu stays stock beside it: no native kernel, no capability', async () => {
    await initBackend('cpu');
    const before = nativeKernelCounters();
    tf.tidy(() => tf.add(tf.matMul(rnd([8, 8], 36), rnd([8, 8], 37)), 1).dataSync());
    expect(nativeKernelCounters()).toEqual(before);
    expect(backendCapabilities()).toEqual({ exactConvBackprop: false, exactFilterGrad: false, fusedReluGrad: false, fusedAdam: false, fusedSumSquares: false, fusedSoftmaxLikelihood: false, fusedRandomNormal: false });
  });

  it('a read returns the values, and later kernels do not change what was read', async () => {
    await initBackend('native');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.add(x, 1);
    const read = y.dataSync();
    const z = tf.mul(y, 2);
    expect(Array.from(read)).toEqual([2, 3, 4]);
    expect(Array.from(await z.data())).toEqual([4, 6, 8]);
    tf.dispose([x, y, z]);
  });

  it('allocates no tensor and no data that outlives its kernel', async () => {
    await initBackend('native');
    const x = rnd([2, 16, 16, 8], 38) as tf.Tensor4D;
    const w = rnd([3, 3, 8, 8], 39) as tf.Tensor4D;
    const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const before = tf.memory().numTensors;
    const idsBefore = numDataIds();
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        const y = tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), 0.5)) as tf.Tensor4D;
        return void tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(y, f as tf.Tensor4D, 1, 'same'), y)))(w);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(numDataIds()).toBe(idsBefore);
    tf.dispose([x, w]);
  });
});

describe.skipIf(!available)('native backend: the output pool', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reuses an output array once its last tensor is disposed, never while a view or a reshape holds it', async () => {
    await initBackend('native');
    const backend = tf.backend() as unknown as { trimPool(): void; data: { get(id: object): { values: Float32Array } } };
    const bufferOf = (t: tf.Tensor) => backend.data.get(t.dataId).values.buffer;
    backend.trimPool(); // no free arrays left from earlier cases
    const x = rnd([64, 64], 140);
    const before = nativePoolStats()!;
    const a = tf.add(x, 1); // a native output
    const view = tf.slice(a, [10, 0], [5, 64]); // cpu's contiguous slice: a view into a's buffer
    const shaped = tf.reshape(a, [4096]); // shares a's data id
    const viewValues = Array.from(await view.data());
    a.dispose();
    shaped.dispose();
    // Still held by the view: a new output of the same size must not get that buffer.
    const aBuffer = bufferOf(view);
    const b = tf.mul(x, 3);
    expect(bufferOf(b)).not.toBe(aBuffer);
    expect(Array.from(await view.data())).toEqual(viewValues);
    expect(nativePoolStats()!.reused).toBe(before.reused);
    view.dispose();
    // Now released: the next output of that size reuses it.
    const c = tf.sub(x, 2);
    expect(bufferOf(c)).toBe(aBuffer);
    expect(nativePoolStats()!.reused).toBe(before.reused + 1);
    expect(Array.from(await c.data())).toEqual(Array.from(await x.data()).map((v) => Math.fround(v - 2)));
    tf.dispose([x, b, c]);
  });

  it('a read is a copy: what dataSync returned does not change when the array is reused', async () => {
    await initBackend('native');
    const x = rnd([32, 32], 141);
    const a = tf.add(x, 1);
    const read = a.dataSync();
    const kept = Array.from(read);
    a.dispose();
    const b = tf.add(x, 100); // reuses a's array
    await b.data();
    expect(Array.from(read)).toEqual(kept);
    tf.dispose([x, b]);
  });

  it('a train-like loop of tidies allocates new arrays only in its first round', async () => {
    await initBackend('native');
    const x = rnd([4, 16, 16, 8], 142) as tf.Tensor4D;
    const w = rnd([3, 3, 8, 8], 143) as tf.Tensor4D;
    const round = () => tf.tidy(() => void tf.grad((f: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(tf.add(x, 1) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'))))(w).dataSync());
    round();
    const after1 = nativePoolStats()!;
    round();
    round();
    const after3 = nativePoolStats()!;
    expect(after3.allocated).toBe(after1.allocated);
    expect(after3.reused).toBeGreaterThan(after1.reused);
    tf.dispose([x, w]);
  });
});
