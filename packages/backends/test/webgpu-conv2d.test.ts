import * as tf from '@tensorflow/tfjs-core';
import { backendCapabilities, conv2dSame } from '@probunet/core/internal';
import { relativeL2Error, tolerance } from '@probunet/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';
import { GEMM_TILE, gemmConv2D, gemmConv2DBackpropInput, setWebgpuConvKernels } from '../src/webgpu-conv2d.js';

// The GEMM convolutions (src/webgpu-conv2d.ts) against the pure-JS cpu backend, on the software
// adapter CI runs (Dawn on Mesa's OpenGL, scripts/install-mesa.sh); skipped where webgpu does not
// load, except in CI, where that fails. Shapes are small (the adapter is slow) and cut the result
// tiles (64 pixels × 32 channels) and the reduction step (16) at their edges.

async function loads(): Promise<boolean> {
  try {
    await initBackend('webgpu');
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`webgpu does not load here, its cases are skipped: ${(err as Error).message}`);
    return false;
  } finally {
    await tf.setBackend('cpu');
  }
}
const webgpu = await loads();
const slow = process.env.PROBUNET_SLOW_TESTS === '1';

/** A seeded generator for the random shapes (mulberry32). */
function rng(seed: number): (lo: number, hi: number) => number {
  let a = seed >>> 0;
  return (lo, hi) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo + 1));
  };
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
}

const fixed: Case[] = [
  { name: 'one partial tile each way (198 pixels × 37 channels, k = 45)', x: [2, 9, 11, 5], filter: [3, 3, 5, 37], strides: 1, pad: 'same' },
  { name: 'one input channel (k = 9 < 16, the first layer)', x: [3, 8, 8, 1], filter: [3, 3, 1, 8], strides: 1, pad: 'same' },
  { name: 'VALID, 40 → 33 channels', x: [1, 12, 10, 40], filter: [3, 3, 40, 33], strides: 1, pad: 'valid' },
  { name: '5×5 filter, SAME', x: [2, 7, 9, 4], filter: [5, 5, 4, 6], strides: 1, pad: 'same' },
];
const draw = rng(28);
const random: Case[] = Array.from({ length: 3 }, (_, i) => {
  const [n, h, w, ci, co] = [draw(1, 3), draw(3, 14), draw(3, 14), draw(1, 40), draw(1, 70)];
  return { name: `random #${i}`, x: [n, h, w, ci], filter: [3, 3, ci, co], strides: 1, pad: 'same' };
});

const attrs = (c: Case, extra: Record<string, unknown> = {}) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, ...extra }) as unknown as tf.NamedAttrMap;

/** Runs `fn` on cpu and on webgpu (in one tidy each); the worst relative L2 error over its outputs. */
async function compare(fn: () => tf.Tensor[]): Promise<number[]> {
  await tf.setBackend('cpu');
  const ref = fn();
  const want = await Promise.all(ref.map((t) => t.data()));
  tf.dispose(ref);
  await initBackend('webgpu');
  fn(); // warm-up: compiles the pipelines, so the tensor count below is steady
  const before = tf.memory().numTensors;
  const out = fn();
  const got = await Promise.all(out.map((t) => t.data()));
  tf.dispose(out);
  expect(tf.memory().numTensors, 'no tensor left behind').toBe(before);
  return got.map((g, i) => relativeL2Error(g as Float32Array, want[i] as Float32Array));
}

describe('webgpu: the GEMM convolutions against cpu', () => {
  beforeAll(async () => {
    if (!webgpu) return;
    await initBackend('webgpu');
    // On by default: initBackend('webgpu') installs them and declares exact conv backprop.
    expect(backendCapabilities().exactConvBackprop, 'initBackend turns the GEMM kernels on').toBe(true);
  });
  afterAll(async () => {
    if (webgpu) setWebgpuConvKernels('gemm');
    await tf.setBackend('cpu');
  });

  for (const c of [...fixed, ...random]) {
    const label = `${c.name}: x ${c.x.join('×')}, filter ${c.filter.join('×')}, ${c.pad}`;
    it.skipIf(!webgpu)(`${label}: forward with bias + relu, forward linear, input gradient`, async () => {
      const errors = await compare(() =>
        tf.tidy(() => {
          const x = tf.randomNormal(c.x, 0, 1, 'float32', 1);
          const filter = tf.randomNormal(c.filter, 0, 0.3, 'float32', 2);
          const bias = tf.randomNormal([c.filter[3]], 0, 1, 'float32', 3);
          const fused = tf.engine().runKernel('FusedConv2D', { x, filter, bias }, attrs(c, { activation: 'relu', leakyreluAlpha: 0 })) as tf.Tensor;
          const plain = tf.engine().runKernel('Conv2D', { x, filter }, attrs(c)) as tf.Tensor;
          const dy = tf.randomNormal(plain.shape, 0, 1, 'float32', 4);
          const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs(c, { inputShape: c.x })) as tf.Tensor;
          return [fused, plain, dx];
        }),
      );
      errors.forEach((e, i) => expect(e, ['fused', 'plain', 'input gradient'][i]).toBeLessThan(tolerance('kernel')));
    });
  }

  it.skipIf(!webgpu)('the GEMM kernels ran (not the stock ones they fall back to)', async () => {
    await initBackend('webgpu');
    const c = fixed[0]!;
    const [x, filter, dy] = [tf.zeros(c.x), tf.zeros(c.filter), tf.zeros([...c.x.slice(0, 3), c.filter[3]])];
    const args = (inputs: tf.NamedTensorInfoMap, extra: Record<string, unknown> = {}) => ({ inputs, backend: tf.backend(), attrs: attrs(c, extra) });
    const outs = [gemmConv2D(args({ x, filter })), gemmConv2DBackpropInput(args({ dy, filter }, { inputShape: c.x }))];
    expect(outs.every((o) => o !== null)).toBe(true);
    // What they leave to the stock kernels: dilation, stride 2 input gradients, 1×1 filters.
    expect(gemmConv2D(args({ x, filter }, { dilations: 2 }))).toBeNull();
    expect(gemmConv2DBackpropInput(args({ dy, filter }, { inputShape: c.x, strides: 2 }))).toBeNull();
    expect(gemmConv2D(args({ x, filter: tf.zeros([1, 1, c.x[3], 4]) }))).toBeNull();
    for (const o of outs) tf.engine().disposeTensor(tf.engine().makeTensorFromTensorInfo(o!));
    tf.dispose([x, filter, dy]);
    await tf.setBackend('cpu');
  });

  it.skipIf(!webgpu)("core's conv2dSame: relu output and all three gradients (exactConvBackprop)", async () => {
    await initBackend('webgpu');
    expect(backendCapabilities()).toMatchObject({ exactConvBackprop: true, exactFilterGrad: true });
    const errors = await compare(() =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 10, 13, 6], 0, 1, 'float32', 5) as tf.Tensor4D;
        const w = tf.randomNormal([3, 3, 6, 35], 0, 0.3, 'float32', 6) as tf.Tensor4D;
        const b = tf.randomNormal([35], 0, 0.5, 'float32', 7) as tf.Tensor1D;
        const t = tf.randomNormal([2, 10, 13, 35], 0, 1, 'float32', 8);
        const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(conv2dSame(xi as tf.Tensor4D, wi as tf.Tensor4D, bi as tf.Tensor1D, 'relu'), t));
        const { value, grads } = tf.valueAndGrads(f)([x, w, b]);
        return [value, ...grads];
      }),
    );
    errors.forEach((e, i) => expect(e, ['loss', 'dx', 'dW', 'db'][i]).toBeLessThan(tolerance('kernel')));
  });

  it.skipIf(!webgpu || !slow)('batch 64 of 128×128 (16,384 row tiles, within the 65,535 dispatch limit): forward and input gradient', async () => {
    const c: Case = { name: 'batch 64', x: [64, 128, 128, 4], filter: [3, 3, 4, 4], strides: 1, pad: 'same' };
    expect(Math.ceil((64 * 128 * 128) / GEMM_TILE.pixels)).toBeLessThanOrEqual(65_535);
    const errors = await compare(() =>
      tf.tidy(() => {
        const x = tf.randomNormal(c.x, 0, 1, 'float32', 9);
        const filter = tf.randomNormal(c.filter, 0, 0.3, 'float32', 10);
        const y = tf.engine().runKernel('Conv2D', { x, filter }, attrs(c)) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: x, filter }, attrs(c, { inputShape: c.x })) as tf.Tensor;
        return [y, dx];
      }),
    );
    errors.forEach((e) => expect(e).toBeLessThan(tolerance('kernel')));
  });

  it.skipIf(!webgpu)('setWebgpuConvKernels switches to the stock kernels and back', async () => {
    await initBackend('webgpu');
    const c = fixed[0]!;
    const run = async () => {
      const y = tf.tidy(() => tf.engine().runKernel('Conv2D', { x: tf.randomNormal(c.x, 0, 1, 'float32', 1), filter: tf.randomNormal(c.filter, 0, 1, 'float32', 2) }, attrs(c)) as tf.Tensor);
      const d = await y.data();
      y.dispose();
      return d;
    };
    const gemm = await run();
    setWebgpuConvKernels('stock');
    expect(backendCapabilities().exactConvBackprop, 'stock kernels: tfjs gradient').toBe(false);
    const stock = await run();
    setWebgpuConvKernels('gemm');
    expect(backendCapabilities().exactConvBackprop, 'GEMM kernels: exact backprop declared').toBe(true);
    expect(relativeL2Error(stock as Float32Array, gemm as Float32Array)).toBeLessThan(tolerance('kernel'));
    await tf.setBackend('cpu');
  });
});
