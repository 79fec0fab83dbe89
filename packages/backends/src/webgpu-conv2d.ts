import * as tf from '@tensorflow/tfjs-core';
import { capabilityMarker } from '@probunet/core/internal';

/**
 * Forward and input-gradient convolutions for tfjs-backend-webgpu (NHWC, float32) as one tiled
 * implicit GEMM, result[p, n] = Σ_k A[p, k] · B[k, n], over
 * - forward (`Conv2D`, `FusedConv2D`): p an output pixel (b, oy, ox), k a tap and input channel
 *   (ky, kx, ci), A = im2col(x) read in place, B = the filter [kh·kw·Cin, Cout]; bias and ReLU
 *   fused into the epilogue (the model's relu convolutions: no separate add and relu passes);
 * - input gradient (`Conv2DBackpropInput`, stride 1): p an input pixel, k a tap and output channel
 *   (ky, kx, co), A[p, k] = dy[b, iy + padTop − ky, ix + padLeft − kx, co], B[k, ci] = W[ky, kx, ci, co]:
 *   the filter is read rotated and transposed in place, where core's formulation dispatches a
 *   reverse, a transpose and a convolution.
 * Workgroups of 128 threads own a 64-pixel × 32-channel tile of the result; they stage 32 values
 * of k at a time in workgroup memory (12 KB: within WebGPU's compatibility limits, where the parity
 * tests run on Dawn/OpenGL) and each thread accumulates 4×4 results (vec4 rows). Threads that load A
 * walk k (consecutive channels: contiguous reads); the pixel geometry of a thread's 8 A rows is
 * computed once, outside the k loop.
 */

/** The members of tfjs-backend-webgpu's WebGPUBackend these kernels use (4.22). */
interface WebgpuBackendLike {
  runWebGPUProgram(program: unknown, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: Array<{ type: string; data: number[] }>): tf.TensorInfo;
}

/** The result tile of one workgroup (pixels × channels) and the reduction step. */
export const GEMM_TILE = { pixels: 64, channels: 32, k: 32 } as const;
const TM = GEMM_TILE.pixels;
const TN = GEMM_TILE.channels;
const TK = GEMM_TILE.k;
/** Largest filter area the kernel takes (larger: a conv used as a reduction, left to tfjs). */
const MAX_TAPS = 49;

type Mode = 'forward' | 'input-grad';

class ConvGemmProgram {
  variableNames: string[];
  uniforms = 'M : i32, N : i32, K : i32, aH : i32, aW : i32, aC : i32, oH : i32, oW : i32, kw : i32, strideH : i32, strideW : i32, padTop : i32, padLeft : i32,';
  workgroupSize: [number, number, number] = [128, 1, 1];
  outputShape: number[];
  dispatchLayout = { x: [3], y: [0, 1, 2], z: [] as number[] };
  dispatch: [number, number, number];
  shaderKey: string;
  /** aC % 4 = 0: each A load is 4 consecutive channels of one tap (one bounds check, contiguous). */
  private readonly quad: boolean;
  /** Forward with N % 4 = 0: the filter is read as vec4 along the output channels. */
  private readonly filterQuad: boolean;
  variableComponents: number[];

  constructor(
    private readonly mode: Mode,
    outShape: [number, number, number, number],
    reductionChannels: number,
    private readonly bias: boolean,
    private readonly relu: boolean,
  ) {
    this.variableNames = bias ? ['a', 'w', 'bias'] : ['a', 'w'];
    this.outputShape = outShape;
    const m = outShape[0] * outShape[1] * outShape[2];
    this.dispatch = [Math.ceil(outShape[3] / TN), Math.ceil(m / TM), 1];
    this.quad = reductionChannels % 4 === 0;
    this.filterQuad = mode === 'forward' && outShape[3] % 4 === 0;
    this.variableComponents = [this.quad ? 4 : 1, this.filterQuad ? 4 : 1, ...(bias ? [1] : [])];
    this.shaderKey = `probunetConvGemm_${mode}_${bias}_${relu}_${this.quad}_${this.filterQuad}`;
  }

  getUserCode(): string {
    // forward: a = x, ay = oy·s + (ky − padTop), B[k, n] = W[k·N + n] (k = tap·aC + ci);
    // input-grad: a = dy, ay = oy − (ky − padTop), B[k, n] = W[tap·aC·N + n·aC + c] (k = tap·aC + c).
    // Every loop is unrolled here (constant indices: private values stay in registers).
    const sign = this.mode === 'forward' ? '' : '-'; // WGSL has no unary plus
    const wIndex = (k: string, n: string) => (this.mode === 'forward' ? `${k} * uniforms.N + ${n}` : `(${k} / uniforms.aC) * uniforms.aC * uniforms.N + ${n} * uniforms.aC + ${k} % uniforms.aC`);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    // A loads: thread loads k = t + 4·kq..+3 (kq = tid % 8) of rows rBase + 16·i (rBase = tid / 8,
    // i < 4); tileA[k·16 + row/4] holds 4 consecutive rows at k. Where the channels divide by 4
    // (quad): one vec4 per row, the rows' geometry hoisted out of the k loop (unrolled). Else 16
    // scalars in a loop that is NOT unrolled: SwiftShader (Chromium's software WebGPU) never finished
    // compiling any unrolled form of it (16 bounds-checked scalar loads: minutes, > 13 GB, then
    // the GPU process dies and the page's device is lost; measured 2026-12-05). These
    // are the 1- and 3-channel input layers, whose reduction is short (K = 9 or 27).
    const rows = (TM * TK) / 512;
    const rowStride = 512 / TK;
    const rowSetup = `
        let kq = tid % ${TK / 4};
        let rBase = tid / ${TK / 4};
        let comp = rBase % 4;
        ${range(rows)
          .map(
            (i) => `
        let p${i} = m0 + rBase + ${rowStride * i};
        let ox${i} = p${i} % uniforms.oW;
        let oy${i} = (p${i} / uniforms.oW) % uniforms.oH;
        // A row past the last pixel reads nothing (its y lies outside).
        let ry${i} = select(-1073741824, oy${i} * uniforms.strideH, p${i} < uniforms.M);
        let rx${i} = ox${i} * uniforms.strideW;
        let rb${i} = (p${i} / (uniforms.oW * uniforms.oH)) * uniforms.aH;`,
          )
          .join('')}`;
    const inside = (i: number) => `ry${i} + offY >= 0 && ry${i} + offY < uniforms.aH && rx${i} + offX >= 0 && rx${i} + offX < uniforms.aW`;
    const at = (i: number) => `((rb${i} + ry${i} + offY) * uniforms.aW + rx${i} + offX) * uniforms.aC + c`;
    // Quad: the thread's k = t + 4·kq advances by TK per step; its channel and tap (c, ky, kx) are
    // carried along instead of divided out each step (integer division is slow on software adapters).
    const quadSetup = this.quad
      ? `
        var c = (4 * kq) % uniforms.aC;
        let tap0 = (4 * kq) / uniforms.aC;
        var ky = tap0 / uniforms.kw;
        var kx = tap0 % uniforms.kw;`
      : '';
    const quadAdvance = this.quad
      ? `
          c = c + ${TK};
          while (c >= uniforms.aC) {
            c = c - uniforms.aC;
            kx = kx + 1;
            if (kx == uniforms.kw) {
              kx = 0;
              ky = ky + 1;
            }
          }`
      : '';
    const loadA = this.quad
      ? `
          let k = t + 4 * kq;
          let offY = ${sign}(ky - uniforms.padTop);
          let offX = ${sign}(kx - uniforms.padLeft);
          let kIn = k < uniforms.K;
          ${range(rows)
            .map(
              (i) => `
          {
            var v = vec4<f32>(0.0);
            if (kIn && ${inside(i)}) { v = a[(${at(i)}) / 4]; }
            let g = (rBase + ${rowStride * i}) / 4;
            tileA[(4 * kq) * 16 + g][comp] = v.x;
            tileA[(4 * kq + 1) * 16 + g][comp] = v.y;
            tileA[(4 * kq + 2) * 16 + g][comp] = v.z;
            tileA[(4 * kq + 3) * 16 + g][comp] = v.w;
          }`,
            )
            .join('')}`
      : `
          for (var e = 0; e < 16; e++) {
            let q = e / 4;
            let k = t + 4 * kq + q;
            let c = k % uniforms.aC;
            let tap = k / uniforms.aC;
            let offY = ${sign}(tap / uniforms.kw - uniforms.padTop);
            let offX = ${sign}(tap % uniforms.kw - uniforms.padLeft);
            let row = rBase + 16 * (e % 4);
            let p = m0 + row;
            let ry = select(-1073741824, ((p / uniforms.oW) % uniforms.oH) * uniforms.strideH, p < uniforms.M);
            let rx = (p % uniforms.oW) * uniforms.strideW;
            let rb = (p / (uniforms.oW * uniforms.oH)) * uniforms.aH;
            var v = 0.0;
            if (k < uniforms.K && ry + offY >= 0 && ry + offY < uniforms.aH && rx + offX >= 0 && rx + offX < uniforms.aW) {
              v = a[((rb + ry + offY) * uniforms.aW + rx + offX) * uniforms.aC + c];
            }
            tileA[(4 * kq + q) * 16 + row / 4][comp] = v;
          }`;
    // B loads: thread loads k = tid / 8 (+ 16·h), columns 4·(tid % 8)..+3 into tileB[k·8 + tid % 8].
    const loadB = range((TK * TN) / 512)
      .map(
        (h) => `
          {
            let kb = t + tid / 8 + ${16 * h};
            let nb = n0 + 4 * (tid % 8);
            var v = vec4<f32>(0.0);
            ${
              this.filterQuad
                ? `if (kb < uniforms.K && nb < uniforms.N) { v = w[(kb * uniforms.N + nb) / 4]; }`
                : `if (kb < uniforms.K) {
              ${range(4)
                .map((q) => `if (nb + ${q} < uniforms.N) { v[${q}] = w[${wIndex('kb', `(nb + ${q})`)}]; }`)
                .join('\n              ')}
            }`
            }
            tileB[tid + ${128 * h}] = v;
          }`,
      )
      .join('');
    const compute = `
          for (var j = 0; j < ${TK}; j++) {
            let av = tileA[j * 16 + ty];
            let bv = tileB[j * 8 + tx];
            acc0 = acc0 + av.x * bv;
            acc1 = acc1 + av.y * bv;
            acc2 = acc2 + av.z * bv;
            acc3 = acc3 + av.w * bv;
          }`;
    const epilogue = `${this.bias ? 'v = v + bias[n];' : ''}${this.relu ? 'v = max(v, 0.0);' : ''}`;
    const store = range(4)
      .map(
        (r) => `
        {
          let m = m0 + ty * 4 + ${r};
          if (m < uniforms.M) {
            ${range(4)
              .map(
                (j) => `
            {
              let n = n0 + tx * 4 + ${j};
              if (n < uniforms.N) {
                var v = acc${r}[${j}];
                ${epilogue}
                result[m * uniforms.N + n] = v;
              }
            }`,
              )
              .join('')}
          }
        }`,
      )
      .join('');
    return `
      var<workgroup> tileA : array<vec4<f32>, ${(TK * TM) / 4}>;
      var<workgroup> tileB : array<vec4<f32>, ${(TK * TN) / 4}>;

      fn main() {
        let tid = i32(localId.x);
        // This thread's results: rows 4·ty..+3, columns 4·tx..+3 of the tile.
        let tx = tid % 8;
        let ty = tid / 8;
        let n0 = i32(workgroupId.x) * ${TN};
        let m0 = i32(workgroupId.y) * ${TM};
        ${rowSetup}
        ${quadSetup}
        var acc0 = vec4<f32>(0.0);
        var acc1 = vec4<f32>(0.0);
        var acc2 = vec4<f32>(0.0);
        var acc3 = vec4<f32>(0.0);
        // The trip count is uniform (K): a workgroup barrier needs uniform control flow.
        for (var t = 0; t < uniforms.K; t = t + ${TK}) {
          ${loadA}
          ${quadAdvance}
          ${loadB}
          workgroupBarrier();
          ${compute}
          workgroupBarrier();
        }
        ${store}
      }
    `;
  }
}

function int(v: number) {
  return { type: 'int32', data: [v] };
}

function runGemm(backend: WebgpuBackendLike, mode: Mode, a: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo | null, relu: boolean, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const [aH, aW, aC, oH, oW, n] =
    mode === 'forward'
      ? [info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels]
      : [info.outHeight, info.outWidth, info.outChannels, info.inHeight, info.inWidth, info.inChannels];
  const m = info.batchSize * oH * oW;
  const k = info.filterHeight * info.filterWidth * aC;
  if (m * n === 0 || k === 0) return null;
  // i32 indices, and WebGPU's 65,535 workgroups per dimension.
  if (Math.max(m * n, info.batchSize * aH * aW * aC) >= 2 ** 31 || Math.ceil(m / TM) > 65_535 || Math.ceil(n / TN) > 65_535) return null;
  const program = new ConvGemmProgram(mode, [info.batchSize, oH, oW, n], aC, bias !== null, relu);
  const [strideH, strideW] = mode === 'forward' ? [info.strideHeight, info.strideWidth] : [1, 1];
  return backend.runWebGPUProgram(program, bias ? [a, w, bias] : [a, w], 'float32', [
    int(m),
    int(n),
    int(k),
    int(aH),
    int(aW),
    int(aC),
    int(oH),
    int(oW),
    int(info.filterWidth),
    int(strideH),
    int(strideW),
    int(info.padInfo.top),
    int(info.padInfo.left),
  ]);
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  inputShape?: [number, number, number, number];
}

const isOne = (v: number | [number, number] | undefined) => v === undefined || (Array.isArray(v) ? v[0] === 1 && v[1] === 1 : v === 1);
const small = (info: tf.backend_util.Conv2DInfo) => info.filterHeight * info.filterWidth <= MAX_TAPS && !(info.filterHeight === 1 && info.filterWidth === 1);

/**
 * `Conv2D` / `FusedConv2D` (bias, linear or relu) on the GEMM kernel; null where it does not apply
 * (NCHW, other dtypes, dilation, 1×1 or large filters, prelu/other activations): the stock kernel runs.
 */
export function gemmConv2D(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | null {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const bias = (args.inputs.bias as tf.TensorInfo | undefined) ?? null;
  const attrs = args.attrs as unknown as ConvAttrs;
  const activation = attrs.activation ?? 'linear';
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32' || !isOne(attrs.dilations)) return null;
  if (args.inputs.preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (!small(info) || (bias && bias.shape[0] !== info.outChannels)) return null;
  return runGemm(args.backend as WebgpuBackendLike, 'forward', x, filter, bias, activation === 'relu', info);
}

/** `Conv2DBackpropInput` at stride 1 on the GEMM kernel; null elsewhere (the stock kernel runs). */
export function gemmConv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | null {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || dy.dtype !== 'float32' || filter.dtype !== 'float32' || !isOne(attrs.strides) || !attrs.inputShape) return null;
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], 1, 1, attrs.pad, attrs.dimRoundingMode);
  if (!small(info) || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
  return runGemm(args.backend as WebgpuBackendLike, 'input-grad', dy, filter, null, false, info);
}

const KERNELS = {
  Conv2D: gemmConv2D,
  FusedConv2D: gemmConv2D,
  Conv2DBackpropInput: gemmConv2DBackpropInput,
} as const;
type ConvKernelName = keyof typeof KERNELS;

const stock = new Map<ConvKernelName, tf.KernelFunc>();

function register(name: ConvKernelName, kind: 'gemm' | 'stock'): void {
  const original = stock.get(name)!;
  const gemm = KERNELS[name];
  tf.unregisterKernel(name, 'webgpu');
  tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: kind === 'stock' ? original : (args) => gemm(args) ?? original(args) });
}

/**
 * Wraps webgpu's Conv2D, FusedConv2D and Conv2DBackpropInput so that `setWebgpuConvKernels` can
 * switch them between the GEMM kernels (the stock ones still run for what they do not cover) and
 * tfjs-webgpu's own. Installs them switched to 'gemm' (and declares exactConvBackprop).
 * Idempotent; call after @tensorflow/tfjs-backend-webgpu has registered its kernels.
 */
export function installWebgpuConvGemm(): boolean {
  if (stock.size > 0) return true;
  for (const name of Object.keys(KERNELS) as ConvKernelName[]) {
    if (!tf.getKernel(name, 'webgpu')) return false;
  }
  for (const name of Object.keys(KERNELS) as ConvKernelName[]) stock.set(name, tf.getKernel(name, 'webgpu')!.kernelFunc);
  setWebgpuConvKernels('gemm');
  return true;
}

/**
 * Which kernels webgpu's Conv2D, FusedConv2D and Conv2DBackpropInput run, for benchmarks and the
 * GPU check: 'gemm' (the default after initBackend('webgpu')) or tfjs-webgpu's 'stock' ones (the
 * way back, should a device misbehave with the GEMM kernels). No-op before initBackend('webgpu').
 */
export function setWebgpuConvKernels(kind: 'gemm' | 'stock'): void {
  for (const name of stock.keys()) register(name, kind);
  // With the split-K filter gradient the GEMM kernels make both backprop kernels exact, so
  // conv2dSame's gradient may call them directly; with the stock ones it keeps tfjs's gradient.
  const marker = capabilityMarker('exactConvBackprop', 'webgpu');
  const declared = tf.getKernel(marker.kernelName, 'webgpu') !== undefined;
  if (kind === 'gemm' && stock.size > 0 && !declared) tf.registerKernel(marker);
  if (kind === 'stock' && declared) tf.unregisterKernel(marker.kernelName, 'webgpu');
}

/** The stock kernel the GEMM one replaced (undefined before installation); for tests. */
export function stockWebgpuConvKernel(name: ConvKernelName): tf.KernelFunc | undefined {
  return stock.get(name);
}
