/**
 * The WebGPU convolution kernels layer by layer against tfjs-webgpu's stock ones, in the same run
 * (used by bench/webgpu-layers.ts and the GPU check, scripts/gpu-check/check.ts): every 3×3
 * convolution shape of one LIDC train step (U-Net down and up paths, prior and posterior nets),
 * each as forward (bias + relu), input gradient and filter gradient, timed with our kernels (GEMM
 * forward and input gradient, split-K filter gradient: what initBackend('webgpu') installs) and
 * with the stock kernels, alternately (median of `reps` after a warm-up, best of two rounds). Each
 * time is one call then a 1-element readback (the queue runs in order). Also the relative L2
 * difference between the two kernels' outputs (a parity check on the way). webgpu must be active.
 * `only` keeps the rows whose "shape pass" (e.g. `2×64²×1→32 filterGradient`) it matches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWebgpuConvKernels, setWebgpuFilterGradKernel } from '@probunet/backends';
import { lidcConvLayers } from './lidc-config.js';

export interface WebgpuLayerTimes {
  batch: number;
  size: number;
  reps: number;
  kernels: { ours: string; stock: string };
  rows: Array<Record<string, unknown>>;
  totals: Record<string, unknown>;
}

export async function webgpuLayerTimes({ batch, size, reps, only, log = () => {} }: { batch: number; size: number; reps: number; only?: RegExp; log?: (line: string) => void }): Promise<WebgpuLayerTimes> {
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation: 'relu', leakyreluAlpha: 0 };
  const setKernels = (kind: 'ours' | 'stock') => {
    setWebgpuConvKernels(kind === 'ours' ? 'gemm' : 'stock');
    setWebgpuFilterGradKernel(kind === 'ours' ? 'split-k' : 'stock');
  };

  /** Median ms of `reps` calls of `fn` (each call: dispatches, then a 1-element readback). */
  async function time(fn: () => tf.Tensor): Promise<number> {
    const once = async () => {
      const out = fn();
      const probe = tf.slice(out, new Array(out.rank).fill(0), new Array(out.rank).fill(1));
      await probe.data();
      tf.dispose([out, probe]);
    };
    await once();
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await once();
      t.push(performance.now() - t0);
    }
    return t.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
  }

  function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let num = 0;
    let den = 0;
    for (let i = 0; i < b.length; i++) {
      num += (a[i]! - b[i]!) ** 2;
      den += b[i]! ** 2;
    }
    return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
  }

  const rows: Array<Record<string, unknown>> = [];
  const totals = { ours: 0, stock: 0 };
  const byPass: Record<string, { ours: number; stock: number }> = {};
  for (const l of lidcConvLayers(size)) {
    const x = tf.randomNormal([batch, l.hw, l.hw, l.cin], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, l.cin, l.cout], 0, 0.1, 'float32', 2) as tf.Tensor4D;
    const b = tf.randomNormal([l.cout], 0, 0.1, 'float32', 3) as tf.Tensor1D;
    const dy = tf.randomNormal([batch, l.hw, l.hw, l.cout], 0, 1, 'float32', 4) as tf.Tensor4D;
    const run = (name: string, inputs: tf.NamedTensorMap, extra: Record<string, unknown> = {}) => tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const passes: Array<[string, () => tf.Tensor]> = [
      ['forward', () => run('FusedConv2D', { x, filter: w, bias: b })],
      // The first conv of each net needs no input gradient (the image is not trained).
      ...(l.firstOfNet ? [] : ([['inputGradient', () => run('Conv2DBackpropInput', { dy, filter: w }, { inputShape: x.shape })]] as Array<[string, () => tf.Tensor]>)),
      ['filterGradient', () => run('Conv2DBackpropFilter', { x, dy }, { filterShape: w.shape })],
    ];
    for (const [pass, fn] of passes) {
      if (only && !only.test(`${batch}×${l.hw}²×${l.cin}→${l.cout} ${pass}`)) continue;
      const ms = { ours: Infinity, stock: Infinity };
      // Ours and stock in turn, so that a slow minute on a shared machine hits both.
      for (let round = 0; round < 2; round++) {
        for (const kind of ['ours', 'stock'] as const) {
          setKernels(kind);
          ms[kind] = Math.min(ms[kind], await time(fn));
        }
      }
      setKernels('stock');
      const ref = fn();
      setKernels('ours');
      const got = fn();
      const difference = relativeL2(await got.data(), await ref.data());
      tf.dispose([ref, got]);
      const flops = 2 * batch * l.hw * l.hw * 9 * l.cin * l.cout;
      totals.ours += ms.ours * l.count;
      totals.stock += ms.stock * l.count;
      const p = (byPass[pass] ??= { ours: 0, stock: 0 });
      p.ours += ms.ours * l.count;
      p.stock += ms.stock * l.count;
      rows.push({ layer: l.name, shape: `${batch}×${l.hw}²×${l.cin}→${l.cout}`, count: l.count, pass, msOurs: ms.ours, msStock: ms.stock, stockOverOurs: ms.stock / ms.ours, gflopsOurs: flops / ms.ours / 1e6, gflopsStock: flops / ms.stock / 1e6, relativeL2VsStock: difference });
      log(`${l.name} ${pass}: ours ${ms.ours.toFixed(2)} ms, stock ${ms.stock.toFixed(2)} ms`);
    }
    tf.dispose([x, w, b, dy]);
  }

  setKernels('ours');
  return {
    batch,
    size,
    reps,
    kernels: { ours: 'GEMM forward (bias + relu fused) and input gradient, split-K filter gradient', stock: 'tfjs-backend-webgpu 4.22 Conv2DMMProgram / Conv2DDerInputMMProgram / its Conv2DBackpropFilter' },
    rows,
    totals: { ...totals, stockOverOurs: totals.stock / totals.ours, byPass: Object.fromEntries(Object.entries(byPass).map(([k, v]) => [k, { ...v, stockOverOurs: v.stock / v.ours }])) },
  };
}
