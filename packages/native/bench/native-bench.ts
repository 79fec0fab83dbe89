/**
 * `npm run bench -w @probunet/native`: GFLOP/s of the native kernels on the shapes a LIDC train step
 * (batch 8, 128², channels 32/64/128/192) runs, with 1 thread and with all of them. One JSON document.
 */
import { availableParallelism } from 'node:os';
import { loadNativeKernels, type ConvGeometry } from '../src/index.js';

const native = loadNativeKernels();
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function time(fn: () => void, reps = 5): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

const same3 = (batch: number, hw: number, ci: number, co: number): ConvGeometry => ({
  batch, inH: hw, inW: hw, inC: ci, outH: hw, outW: hw, outC: co, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1,
});

const results: Array<Record<string, unknown>> = [];
for (const threads of [1, availableParallelism()]) {
  native.setThreads(threads);
  {
    const n = 1024;
    const a = rand(n * n), b = rand(n * n), c = new Float32Array(n * n);
    const ms = time(() => native.gemm({ a, b, c, m: n, n, k: n }));
    results.push({ threads, kernel: 'gemm 1024³', ms, gflops: (2 * n ** 3) / ms / 1e6 });
  }
  for (const [hw, ch] of [[128, 32], [64, 64], [32, 128], [16, 192]] as const) {
    const g = same3(8, hw, ch, ch);
    const x = rand(8 * hw * hw * ch), w = rand(9 * ch * ch), y = new Float32Array(8 * hw * hw * ch), dw = new Float32Array(9 * ch * ch);
    const flops = 2 * 8 * hw * hw * 9 * ch * ch;
    for (const [kernel, fn] of [
      ['conv2d', () => native.conv2d(x, w, y, g)],
      ['conv2dBackpropInput', () => native.conv2dBackpropInput(y, w, x, g)],
      ['conv2dBackpropFilter', () => native.conv2dBackpropFilter(x, y, dw, g)],
    ] as const) {
      const ms = time(fn, 3);
      results.push({ threads, kernel: `${kernel} 8×${hw}²×${ch}→${ch}`, ms, gflops: flops / ms / 1e6 });
    }
  }
}
native.setThreads(0);
console.log(JSON.stringify({ info: native.info(), results }, null, 2));
