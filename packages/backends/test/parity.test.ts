import * as tf from '@tensorflow/tfjs-core';
import { Trainer, createProbUNet, type ProbUNet } from '@probunet/core';
import { backendCapabilities, conv2dFilterGrad } from '@probunet/core/internal';
import { relativeL2Error, tolerance } from '@probunet/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';

// Numerical parity: the same seeded model's −ELBO terms and every parameter's gradient on each
// backend that loads here agree with the pure-JS cpu backend. webgpu runs in Node through Dawn on
// Mesa's software OpenGL (scripts/install-mesa.sh); CI must run it, elsewhere it is skipped when
// no adapter can be created. wasm-native (wasm with @probunet/native's conv and matmul kernels) is
// compiled at install wherever a C++ compiler exists; CI must load it, and native (the cpu
// backend's storage with the same kernels plus native element-wise ones) with it.

const config = { inputChannels: 1, numClasses: 3, channels: [4, 8, 8], convsPerBlock: 2, latentDim: 3, num1x1Convs: 2, seed: 4 };

interface Result {
  reconstruction: number;
  kl: number;
  grads: Float32Array[];
  samples: Int32Array;
}

async function evaluate(model: ProbUNet): Promise<Result> {
  const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.cast(tf.floor(tf.randomUniform([2, 16, 16], 0, 3, 'float32', 2)), 'int32') as tf.Tensor3D;
  const vars = model.parameters().map((p) => p.variable);
  let kept: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const t = model.elboTerms(images, labels, 123);
    kept = [tf.keep(t.reconstruction), tf.keep(t.kl)];
    return tf.add(t.reconstruction, t.kl) as tf.Scalar;
  }, vars);
  const out = await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array));
  const [rec, kl] = await Promise.all(kept.map(async (t) => (await t.data())[0]!));
  const samples = model.sample(images, 3, { seed: 7 });
  const sampled = (await samples.data()) as Int32Array;
  tf.dispose([value, images, labels, samples, ...kept, ...Object.values(grads)]);
  return { reconstruction: rec!, kl: kl!, grads: out, samples: sampled };
}

type Checked = 'wasm' | 'wasm-native' | 'native' | 'webgpu';

/** Which backends load here, probed once: CI installs what each needs, so there a failure fails. */
async function probe(name: Checked): Promise<boolean> {
  try {
    await initBackend(name);
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`parity: ${name} does not load here, its cases are skipped: ${(err as Error).message}`);
    return false;
  } finally {
    await tf.setBackend('cpu');
  }
}
const loads: Record<Checked, boolean> = { wasm: await probe('wasm'), 'wasm-native': await probe('wasm-native'), native: await probe('native'), webgpu: await probe('webgpu') };

/** Switches to a backend that loaded (the probe above decided whether the case runs at all). */
async function use(name: Checked): Promise<void> {
  await initBackend(name);
}

describe('numerical parity with the cpu backend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const name of ['wasm', 'wasm-native', 'native', 'webgpu'] as const)
    it.skipIf(!loads[name])(`${name}: forward terms and every gradient`, async () => {
      await tf.setBackend('cpu');
      const model = createProbUNet(config);
      const ref = await evaluate(model);
      await use(name);
      const got = await evaluate(model);
      expect(Math.abs(got.reconstruction - ref.reconstruction) / ref.reconstruction).toBeLessThan(tolerance('forward'));
      expect(Math.abs(got.kl - ref.kl)).toBeLessThan(tolerance('gradient') * Math.max(1, ref.kl));
      model.parameters().forEach((p, i) => {
        expect(relativeL2Error(got.grads[i]!, ref.grads[i]!), `${name}: ${p.name}`).toBeLessThan(tolerance('gradient'));
      });
      // Sampled label maps agree but for argmax near-ties.
      const same = got.samples.filter((v, i) => v === ref.samples[i]).length / ref.samples.length;
      expect(same).toBeGreaterThan(0.99);
      model.dispose();
    });

  for (const name of ['wasm', 'wasm-native', 'native', 'webgpu'] as const)
    it.skipIf(!loads[name])(`${name}: a whole train step (loss, gradient norm, weight decay) matches cpu`, async () => {
      // A failing GPU pipeline does not throw: its output is silently wrong. Comparing a whole step
      // (every op the trainer runs, the L2 term and the gradient norm included) catches that.
      const step = async () => {
        const model = createProbUNet(config);
        const trainer = new Trainer(model, { learningRate: 1e-3, seed: 1 });
        const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
        const labels = tf.cast(tf.floor(tf.randomUniform([2, 2, 16, 16], 0, 3, 'float32', 4)), 'int32') as tf.Tensor4D;
        const m = await trainer.trainStep({ images, labels });
        tf.dispose([images, labels]);
        trainer.dispose();
        model.dispose();
        return m;
      };
      await tf.setBackend('cpu');
      const ref = await step();
      await use(name);
      const got = await step();
      for (const key of ['loss', 'gradNorm', 'weightDecay'] as const) {
        expect(Math.abs(got[key] - ref[key]) / Math.abs(ref[key]), `${name}: ${key} ${got[key]} vs cpu ${ref[key]}`).toBeLessThan(tolerance('gradient'));
      }
    });

  for (const name of ['wasm-native', 'native', 'webgpu'] as const)
    it.skipIf(!loads[name])(`${name}: 16 samples per image agree with cpu`, async () => {
      await tf.setBackend('cpu');
      const model = createProbUNet(config);
      const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const ref = (await model.sample(images, 16, { seed: 3 }).data()) as Int32Array;
      await use(name);
      const out = model.sample(images, 16, { seed: 3 });
      const got = (await out.data()) as Int32Array;
      expect(got.filter((v, i) => v === ref[i]).length / ref.length).toBeGreaterThan(0.99);
      tf.dispose([images, out]);
      model.dispose();
    });

  it.skipIf(!loads.webgpu)('webgpu: our filter gradient stays right where the stock kernel fails (N·H·W = 65,536)', async () => {
    await tf.setBackend('cpu');
    const x = tf.randomNormal([4, 128, 128, 8], 0, 1, 'float32', 5) as tf.Tensor4D;
    const dy = tf.randomNormal([4, 128, 128, 8], 0, 1, 'float32', 6) as tf.Tensor4D;
    const ref = await conv2dFilterGrad(x, dy, 3).data();
    await use('webgpu');
    const got = await conv2dFilterGrad(x, dy, 3).data();
    expect(relativeL2Error(got, ref)).toBeLessThan(tolerance('forward'));
    tf.dispose([x, dy]);
  });
});

describe('webgpu: the split-K filter gradient', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const cases: Array<[string, number[], number[], number, 'same' | 'valid']> = [
    ['N·H·W = 65,536 (where the stock kernel fails on Mesa)', [4, 128, 128, 8], [3, 3, 8, 8], 1, 'same'],
    ['stride 2, VALID, odd sizes', [2, 17, 15, 5], [3, 3, 5, 7], 2, 'valid'],
    ['a 5×5 filter on 3 channels', [1, 20, 20, 3], [5, 5, 3, 4], 1, 'same'],
    ['result tiles cut at the edges (360 × 33)', [2, 16, 16, 40], [3, 3, 40, 33], 1, 'same'],
    ['one input channel (M = 9: the 16-row result tile), 429 pixels', [3, 13, 11, 1], [3, 3, 1, 5], 1, 'same'],
    ['rows narrower than a step (3 × 5 images: the pixel walk wraps rows and images)', [3, 5, 3, 2], [3, 3, 2, 3], 1, 'same'],
  ];
  for (const [name, xShape, filterShape, strides, pad] of cases)
    it.skipIf(!loads.webgpu)(`${name}: matches cpu`, async () => {
      const run = () =>
        tf.tidy(() => {
          const x = tf.randomNormal(xShape, 0, 1, 'float32', 5);
          const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad);
          const dy = tf.randomNormal(info.outShape, 0, 1, 'float32', 6);
          return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
        });
      await tf.setBackend('cpu');
      const ref = run();
      const want = await ref.data();
      ref.dispose();
      await use('webgpu');
      expect(backendCapabilities().exactFilterGrad).toBe(true);
      const before = tf.memory().numTensors;
      const out = run();
      const got = await out.data();
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(relativeL2Error(got, want)).toBeLessThan(tolerance('forward'));
    });
});

it('the split-K geometry: a 16-row result tile for M ≤ 16, 32 rows above', async () => {
  const { splitK } = await import('../src/webgpu-filter-grad.js');
  expect(splitK(9, 32, 8192).tileM).toBe(16);
  expect(splitK(16, 32, 8192).tileM).toBe(16);
  expect(splitK(17, 32, 8192).tileM).toBe(32);
  // 2,048 workgroups' worth of chunks, never under 256 pixels, a multiple of the 16-pixel step.
  expect(splitK(288, 32, 524_288)).toMatchObject({ chunk: 2304, parts: 228 });
  expect(splitK(9, 32, 8192)).toMatchObject({ chunk: 256, parts: 32 });
});

describe('webgpu: matrices past the dispatch limit (tfjs-backend-webgpu 4.22)', () => {
  it.skipIf(!loads.webgpu)('a matrix with more than 1,048,560 rows transposes correctly (the stock kernel fails on it)', async () => {
    await use('webgpu');
    const rows = 1_048_576 + 3;
    const x = tf.tidy(() => tf.reshape(tf.range(0, rows * 3, 1, 'float32'), [rows, 3]));
    const t = tf.transpose(x);
    expect(t.shape).toEqual([3, rows]);
    const got = (await t.data()) as Float32Array;
    // Element (c, r) of the transpose is x[r, c] = 3r + c: check a stride through every block.
    for (let r = 0; r < rows; r += 4099) for (let c = 0; c < 3; c++) expect(got[c * rows + r]).toBe(3 * r + c);
    expect(got[2 * rows + rows - 1]).toBe(3 * (rows - 1) + 2);
    // The fix is needed: the stock kernel, run directly, still exceeds the limit (when tfjs fixes
    // it, this fails: drop the wrapper then).
    const { WEBGPU_TRANSPOSE_MAX_ROWS, stockWebgpuTransposeKernel } = await import('../src/webgpu-dispatch-limits.js');
    expect(rows).toBeGreaterThan(WEBGPU_TRANSPOSE_MAX_ROWS);
    const stock = stockWebgpuTransposeKernel()!;
    expect(() => stock({ inputs: { x }, backend: tf.backend(), attrs: { perm: [1, 0] } as unknown as tf.NamedAttrMap })).toThrow(
      /Dispatch size exceeds WebGPU limits/
    );
    const small = tf.transpose(tf.tensor2d([[1, 2, 3]]));
    expect(Array.from(await small.data())).toEqual([1, 2, 3]);
    tf.dispose([x, t, small]);
    await tf.setBackend('cpu');
  });

  it.skipIf(!loads.webgpu)('a sum over the rows of such a matrix (a bias gradient at batch 64 of 128×128) is right', async () => {
    await use('webgpu');
    const rows = 1_048_576 + 5;
    const x = tf.tidy(() => tf.tile(tf.tensor2d([[1, 2, 0.5]]), [rows, 1]));
    const s = tf.sum(x, 0);
    expect(Array.from(await s.data())).toEqual([rows, 2 * rows, 0.5 * rows]);
    const kept = tf.sum(x, 0, true);
    expect(kept.shape).toEqual([1, 3]);
    const { stockWebgpuSumKernel } = await import('../src/webgpu-dispatch-limits.js');
    expect(() =>
      stockWebgpuSumKernel()!({ inputs: { x }, backend: tf.backend(), attrs: { axis: [0], keepDims: false } as unknown as tf.NamedAttrMap })
    ).toThrow(/Dispatch size exceeds WebGPU limits/);
    tf.dispose([x, s, kept]);
    await tf.setBackend('cpu');
  });
});
