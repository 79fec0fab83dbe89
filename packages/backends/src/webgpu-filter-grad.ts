import * as tf from '@tensorflow/tfjs-core';

/**
 * A split-K filter gradient for tfjs-backend-webgpu (NHWC, float32): dW[ky, kx, ci, co] =
 * Σ_{b, oy, ox} x[b, oy·s − pad + ky·d, ox·s − pad + kx·d, ci] · dy[b, oy, ox, co], a product
 * im2col(x)ᵀ · dy whose reduction runs over every output pixel (N·H·W, 524,288 at batch 32 of
 * 128×128) into a small result (9·Cin × Cout). Measured on an NVIDIA H200 (docs/benchmarks.md, GPU),
 * the filter gradients took 82 % of the WebGPU step: both tfjs-webgpu's own kernel and our
 * forward-conv formulation reduce over N·H·W inside each thread, on a handful of workgroups.
 * This one splits the reduction:
 * 1. `FilterGradPartialsProgram`: workgroups of 8×16 threads each own a 32×32 tile of the result
 *    (16×32 where M ≤ 16: the 1-channel input layer, M = 9) and one chunk of output pixels
 *    (`chunk`, a multiple of 16); they stage 16 pixels of im2col(x) and dy at a time in workgroup
 *    memory and accumulate 2×4 (1×4) results per thread in vec4s. No integer division inside the
 *    pixel loop. Partial sums [S, M, N] (S = ⌈N·H·W / chunk⌉, M = kh·kw·Cin, N = Cout).
 * 2. `SumPartialsProgram`: one thread per result sums its S partials in order (deterministic).
 * Workgroups of 128 threads and 4 KB of workgroup memory fit WebGPU's compatibility limits (Dawn on
 * OpenGL, where the parity tests run).
 */

/** The members of tfjs-backend-webgpu's WebGPUBackend this kernel uses (4.22). */
interface WebgpuBackendLike {
  runWebGPUProgram(program: unknown, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: Array<{ type: string; data: number[] }>): tf.TensorInfo;
  disposeData(dataId: object): void;
}

/** Result tile columns (output channels) per workgroup, and pixels staged per step. */
const TILE_N = 32;
const STEP = 16;

interface Geometry {
  m: number;
  n: number;
  pixels: number;
  chunk: number;
  parts: number;
  /** Result tile rows (taps × input channels) per workgroup: 16 where M ≤ 16 (1-channel input), else 32. */
  tileM: 16 | 32;
}

/** Chunks of output pixels: enough workgroups to fill a large GPU, partial sums under ~64 MB. */
export function splitK(m: number, n: number, pixels: number): Geometry {
  // A 1-channel 3×3 layer has M = 9: a 32-row tile would leave 23 of its 32 rows idle.
  const tileM = m <= 16 ? 16 : 32;
  const tiles = Math.ceil(m / tileM) * Math.ceil(n / TILE_N);
  // Aim at ≥ 2,048 workgroups, never chunks under 256 pixels; cap the partials at 2^24 floats.
  let chunk = Math.max(256, Math.ceil((pixels * tiles) / 2048));
  chunk = Math.ceil(chunk / STEP) * STEP;
  while (Math.ceil(pixels / chunk) * m * n > 1 << 24) chunk *= 2;
  return { m, n, pixels, chunk, parts: Math.ceil(pixels / chunk), tileM };
}

class FilterGradPartialsProgram {
  variableNames = ['x', 'dy'];
  uniforms =
    'M : i32, N : i32, pixels : i32, chunk : i32, inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, kw : i32, strideH : i32, strideW : i32, dilH : i32, dilW : i32, padTop : i32, padLeft : i32,';
  workgroupSize: [number, number, number] = [8, 16, 1];
  outputShape: number[];
  dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  shaderKey: string;
  private readonly tileM: number;

  constructor(g: Geometry) {
    this.outputShape = [g.parts, g.m, g.n];
    this.tileM = g.tileM;
    this.dispatch = [Math.ceil(g.n / TILE_N), Math.ceil(g.m / g.tileM), g.parts];
    this.shaderKey = `probunetFilterGradPartials_${g.tileM}`;
  }

  getUserCode(): string {
    const tm = this.tileM;
    // Each thread owns rows ty·R..+R−1 (R = tm / 16) and columns 4·tx..+3 of the result tile.
    const rowsPerThread = tm / 16;
    // A loads: element e = tid + 128·i of the [STEP][tm] tile sits at row kk = e / tm, column e % tm
    // = tid % tm for every i (128 is a multiple of tm): the thread's filter row m, and with it the
    // tap and channel, is fixed, so its divisions run once. The pixels' (ox, oy, b) advance by
    // STEP per step, carried along without dividing (integer division is slow on software adapters:
    // it was most of the 1-channel layer's time, 2026-12-05).
    const aLoads = (STEP * tm) / 128;
    const kkStride = 128 / tm;
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    return `
      var<workgroup> tileA : array<f32, ${STEP * tm}>;
      var<workgroup> tileB : array<vec4<f32>, ${STEP * (TILE_N / 4)}>;

      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let tid = ty * 8 + tx;
        let n0 = i32(workgroupId.x) * ${TILE_N};
        let m0 = i32(workgroupId.y) * ${tm};
        let s = i32(workgroupId.z);
        let pStart = s * uniforms.chunk;
        let pEnd = min(pStart + uniforms.chunk, uniforms.pixels);
        // This thread's A column: filter row m = (tap, ci), fixed for the whole chunk.
        let aCol = tid % ${tm};
        let aRow0 = tid / ${tm};
        let am = m0 + aCol;
        let amOk = am < uniforms.M;
        let ci = am % uniforms.inC;
        let tap = am / uniforms.inC;
        let offY = (tap / uniforms.kw) * uniforms.dilH - uniforms.padTop;
        let offX = (tap % uniforms.kw) * uniforms.dilW - uniforms.padLeft;
        // The geometry of the pixels this thread loads A at: p = pStart + t + aRow0 + ${kkStride}·i.
        var ox : array<i32, ${aLoads}>;
        var oy : array<i32, ${aLoads}>;
        var ob : array<i32, ${aLoads}>;
        for (var i = 0; i < ${aLoads}; i++) {
          let p = pStart + aRow0 + ${kkStride} * i;
          ox[i] = p % uniforms.outW;
          let rest = p / uniforms.outW;
          oy[i] = rest % uniforms.outH;
          ob[i] = rest / uniforms.outH;
        }
        // B loads: 4 per thread, column tid % 32 (an output channel), rows tid / 32 + 4·i.
        let bCol = tid % ${TILE_N};
        let bRow0 = tid / ${TILE_N};
        let bn = n0 + bCol;
        let bnOk = bn < uniforms.N;
        ${range(rowsPerThread)
          .map((r) => `var acc${r} = vec4<f32>(0.0);`)
          .join('\n        ')}
        // The trip count is uniform (the chunk): a workgroup barrier needs uniform control flow.
        for (var t = 0; t < uniforms.chunk; t = t + ${STEP}) {
          for (var i = 0; i < ${aLoads}; i++) {
            let kk = aRow0 + ${kkStride} * i;
            let p = pStart + t + kk;
            var a = 0.0;
            let iy = oy[i] * uniforms.strideH + offY;
            let ix = ox[i] * uniforms.strideW + offX;
            if (p < pEnd && amOk && iy >= 0 && iy < uniforms.inH && ix >= 0 && ix < uniforms.inW) {
              a = x[((ob[i] * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ci];
            }
            tileA[kk * ${tm} + aCol] = a;
            // Next step's pixel: STEP further on.
            var nx = ox[i] + ${STEP};
            var ny = oy[i];
            var nb = ob[i];
            while (nx >= uniforms.outW) {
              nx = nx - uniforms.outW;
              ny = ny + 1;
            }
            while (ny >= uniforms.outH) {
              ny = ny - uniforms.outH;
              nb = nb + 1;
            }
            ox[i] = nx;
            oy[i] = ny;
            ob[i] = nb;
          }
          for (var i = 0; i < 4; i++) {
            let kk = bRow0 + 4 * i;
            let p = pStart + t + kk;
            var b = 0.0;
            if (p < pEnd && bnOk) {
              b = dy[p * uniforms.N + bn];
            }
            tileB[kk * ${TILE_N / 4} + bCol / 4][bCol % 4] = b;
          }
          workgroupBarrier();
          for (var k = 0; k < ${STEP}; k++) {
            let bv = tileB[k * ${TILE_N / 4} + tx];
            ${range(rowsPerThread)
              .map((r) => `acc${r} = acc${r} + tileA[k * ${tm} + ty * ${rowsPerThread} + ${r}] * bv;`)
              .join('\n            ')}
          }
          workgroupBarrier();
        }
        ${range(rowsPerThread)
          .map(
            (r) => `{
          let m = m0 + ty * ${rowsPerThread} + ${r};
          for (var j = 0; j < 4; j++) {
            let n = n0 + tx * 4 + j;
            if (m < uniforms.M && n < uniforms.N) {
              result[(s * uniforms.M + m) * uniforms.N + n] = acc${r}[j];
            }
          }
        }`,
          )
          .join('\n        ')}
      }
    `;
  }
}

class SumPartialsProgram {
  variableNames = ['partials'];
  uniforms = 'parts : i32, count : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'probunetSumPartials';
  size = true;

  constructor(outShape: number[], count: number) {
    this.outputShape = outShape;
    this.dispatchLayout = { x: outShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(count / 64), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var total = 0.0;
          for (var s = 0; s < uniforms.parts; s++) {
            total = total + partials[s * uniforms.count + index];
          }
          result[index] = total;
        }
      }
    `;
  }
}

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The split-K kernel on NHWC float32 input; null for other cases (the stock kernel runs). */
export function splitKFilterGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  const dy = args.inputs.dy as tf.TensorInfo;
  const attrs = args.attrs as unknown as FilterGradAttrs;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  // Conv2DBackpropFilter has no dilations (TensorFlow.js's kernels compute it undilated too).
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const n = info.outChannels;
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  if (m * n === 0 || pixels === 0 || pixels * Math.max(n, info.inChannels) >= 2 ** 31) return null;
  const backend = args.backend as WebgpuBackendLike;
  const g = splitK(m, n, pixels);
  // WebGPU dispatches at most 65,535 workgroups per dimension.
  if (g.parts > 65_535 || Math.ceil((m * n) / 64) > 65_535) return null;
  const int = (v: number) => ({ type: 'int32', data: [v] });
  const partials = backend.runWebGPUProgram(new FilterGradPartialsProgram(g), [x, dy], 'float32', [
    int(m),
    int(n),
    int(pixels),
    int(g.chunk),
    int(info.inHeight),
    int(info.inWidth),
    int(info.inChannels),
    int(info.outHeight),
    int(info.outWidth),
    int(info.filterWidth),
    int(info.strideHeight),
    int(info.strideWidth),
    int(info.dilationHeight),
    int(info.dilationWidth),
    int(info.padInfo.top),
    int(info.padInfo.left),
  ]);
  const out = backend.runWebGPUProgram(new SumPartialsProgram([...attrs.filterShape], m * n), [partials], 'float32', [int(g.parts), int(m * n)]);
  backend.disposeData(partials.dataId);
  return out;
}

let stockFilterGrad: tf.KernelFunc | null = null;

/**
 * Replaces webgpu's Conv2DBackpropFilter with the split-K kernel (the stock one still runs for
 * what it does not cover) and declares the `exactFilterGrad` capability, so core's conv gradient
 * calls it. Idempotent; call after @tensorflow/tfjs-backend-webgpu has registered its kernels.
 */
export function installWebgpuFilterGrad(marker: tf.KernelConfig): void {
  if (stockFilterGrad) return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
  if (!stock) return;
  stockFilterGrad = stock.kernelFunc;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'webgpu',
    kernelFunc: (args) => splitKFilterGrad(args) ?? stockFilterGrad!(args),
  });
  if (!tf.getKernel(marker.kernelName, 'webgpu')) tf.registerKernel(marker);
}

/** The stock kernel the split-K one replaced (null before installation); for tests. */
export function stockWebgpuFilterGradKernel(): tf.KernelFunc | null {
  return stockFilterGrad;
}

/**
 * Which kernel webgpu's Conv2DBackpropFilter runs, for checks that compare them (the GPU check):
 * 'split-k' (what initBackend('webgpu') installs) or tfjs-webgpu's 'stock' kernel. No-op before
 * initBackend('webgpu').
 */
export function setWebgpuFilterGradKernel(kind: 'split-k' | 'stock'): void {
  if (!stockFilterGrad) return;
  const stock = stockFilterGrad;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'webgpu',
    kernelFunc: kind === 'stock' ? stock : (args) => splitKFilterGrad(args) ?? stock(args),
  });
}
