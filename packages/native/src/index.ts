import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Epilogue activations, applied after the bias: the codes the addon takes. */
export const ACTIVATION_CODES = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 } as const;
export type NativeActivation = keyof typeof ACTIVATION_CODES;

/** Element-wise binary operations `binary` runs: the codes the addon takes. */
export const BINARY_OP_CODES = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, squaredDifference: 6 } as const;
export type NativeBinaryOp = keyof typeof BINARY_OP_CODES;

/** Element-wise unary operations `unary` runs: the codes the addon takes. */
export const UNARY_OP_CODES = {
  relu: 0,
  step: 1,
  sqrt: 2,
  square: 3,
  exp: 4,
  log: 5,
  neg: 6,
  abs: 7,
  sigmoid: 8,
  tanh: 9,
  rsqrt: 10,
  reciprocal: 11,
  softplus: 12,
  log1p: 13,
} as const;
export type NativeUnaryOp = keyof typeof UNARY_OP_CODES;

/** The geometry of one NHWC convolution (filter [kh, kw, inC, outC]). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

/** An NHWC pooling window: input [batch, inH, inW, channels] → output [batch, outH, outW, channels]. */
export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  filterH: number;
  filterW: number;
  strideH: number;
  strideW: number;
}

/** A bilinear resize: [batch, inH, inW, channels] → [batch, outH, outW, channels]. */
export interface ResizeGeometry {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

export interface Epilogue {
  /** [n] (gemm) or [outC] (conv2d), added to every row. */
  bias?: Float32Array | null;
  activation?: NativeActivation;
  /** Slope of leakyrelu below zero. */
  alpha?: number;
}

export interface GemmArgs extends Epilogue {
  /** [batchA, m, k], or [batchA, k, m] with transA. */
  a: Float32Array;
  /** [batchB, k, n], or [batchB, n, k] with transB. */
  b: Float32Array;
  /** [batch, m, n], overwritten. */
  c: Float32Array;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Number of products (default 1); batchA and batchB are 1 (broadcast) or batch. */
  batch?: number;
  batchA?: number;
  batchB?: number;
}

/** A micro-kernel: 6×32 AVX-512, 6×16 AVX2 + FMA, or portable C++. */
export type NativeIsa = 'avx512' | 'avx2' | 'portable';

export interface NativeInfo {
  /** True when a vector micro-kernel (AVX2 + FMA or AVX-512) runs; false: the portable C++ one. */
  avx2: boolean;
  /** The micro-kernel in use: at load time the widest the processor has (PROBUNET_NATIVE_ISA asks for another). */
  isa: NativeIsa;
  /** The micro-kernels this processor can run, widest first. */
  isas: NativeIsa[];
  /**
   * True when stride-1, undilated 3×3 convolutions with at least 8 input and 8 output channels (forward,
   * input and filter gradients) run as Winograd F(2×2, 3×3) (PROBUNET_NATIVE_WINOGRAD=0 turns it off at load).
   */
  winograd: boolean;
  /** Threads one call uses. */
  threads: number;
  /**
   * Scratch blocks of 256 KB and more (e.g. a convolution's zero-padded input) are kept for reuse
   * after use, up to 256 MB or twice the largest block needed, whichever is more: blocks served from the cache, blocks allocated, bytes now free in it.
   */
  scratchCache: { reused: number; allocated: number; freeBytes: number };
}

/**
 * The kernels, over float32 typed arrays; every size is checked against the arrays' lengths (a
 * RangeError otherwise). A kernel that runs out of scratch memory throws an Error with
 * `code: 'PROBUNET_NATIVE_OUT_OF_MEMORY'` naming the kernel and the bytes it asked for.
 */
export interface NativeKernels {
  gemm(args: GemmArgs): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, geometry: ConvGeometry, epilogue?: Epilogue): void;
  /** The filter gradient [kh, kw, inC, outC] of `conv2d` with this geometry, from x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: ConvGeometry): void;
  /** The input gradient [batch, inH, inW, inC] from dy and the filter; stride 1 only (any dilation). */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  /** out[c] = Σ_r x[r·cols + c]: a sum over the leading axes (float sums of 256 rows, carried in double). */
  sumLeading(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** dst[r, :] = src[r, colStart : colStart + width]: a slice along the last axis of a [rows, srcCols] array. */
  copyColumns(src: Float32Array, rows: number, srcCols: number, colStart: number, width: number, dst: Float32Array): void;
  /** The gradient of a VALID (unpadded, undilated) NHWC average pool. */
  avgPoolGradValid(dy: Float32Array, dx: Float32Array, p: PoolGeometry): void;
  /**
   * out[i] = op(a[i % a.length], b[i % b.length]), on the thread pool: each input's length is 1 or a
   * divisor of out's (a tensor broadcast along leading axes, e.g. a bias over [N, H, W, C]).
   */
  binary(op: NativeBinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out[i] = op(x[i]); `alpha` is step's value where x ≤ 0. out may be x. */
  unary(op: NativeUnaryOp, x: Float32Array, out: Float32Array, alpha?: number): void;
  /** out = Σ xs (each of out's length). */
  addN(xs: Float32Array[], out: Float32Array): void;
  /**
   * The general broadcast on shapes collapsed to four dimensions: out[i0, i1, i2, i3] (contiguous) =
   * op(a[Σ i_j · aStrides[j]], b[Σ i_j · bStrides[j]]); a stride of 0 broadcasts that dimension.
   */
  binaryStrided(op: NativeBinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[], out: Float32Array, dims: readonly number[]): void;
  /** out[o, c] = Σ_r x[o, r, c]: a sum over a contiguous run of axes (float sums of 256 terms, carried in double). */
  sumAxes(x: Float32Array, outer: number, rows: number, cols: number, out: Float32Array): void;
  /** out[o, c] = max_r x[o, r, c] (rows ≥ 1): a max over a contiguous run of axes; NaN propagates. */
  maxAxes(x: Float32Array, outer: number, rows: number, cols: number, out: Float32Array): void;
  /** A VALID (unpadded, undilated) NHWC average pool. */
  avgPoolValid(x: Float32Array, out: Float32Array, p: PoolGeometry): void;
  /** dst[r, colStart + j] = src[r, j] for r < rows, j < width: one input of a concatenation along the last axis. */
  pasteColumns(src: Float32Array, rows: number, width: number, dst: Float32Array, dstCols: number, colStart: number): void;
  /** Bilinear resize of NHWC images, TensorFlow.js's coordinate rules (alignCorners, halfPixelCenters). */
  resizeBilinear(x: Float32Array, out: Float32Array, r: ResizeGeometry): void;
  /** Its gradient (halfPixelCenters false): dy [batch, outH, outW, channels] → dx [batch, inH, inW, channels]. */
  resizeBilinearGrad(dy: Float32Array, dx: Float32Array, r: Omit<ResizeGeometry, 'halfPixelCenters'>): void;
  /**
   * The gradient through a relu and the bias added before it, in one pass over [rows, cols] arrays:
   * dx = dy · step(y) (Step as TensorFlow.js's: NaN where y is NaN), db[c] = Σ_r dx[r, c] (float sums
   * of 256 rows, carried in double). dx may be dy.
   */
  reluGradBias(dy: Float32Array, y: Float32Array, dx: Float32Array, db: Float32Array, rows: number, cols: number): void;
  /**
   * One Adam step in one pass, in the order of @probunet/core's Adam (each product and sum rounded
   * to float32): m' = m·β1 + g·(1−β1), v' = v·β2 + g²·(1−β2) (m and v null: the first step),
   * u = m' / (√v' + ε) · stepSize, w' = w − u. Returns Σ u² (NaN or Infinity when any update is).
   * Outputs may be their inputs.
   */
  adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array | null, v: Float32Array | null, out: { w: Float32Array; m: Float32Array; v: Float32Array }, h: AdamHyperparameters): number;
  /** Σ x² (float sums of 256 terms carried in double; NaN or Infinity when any term is). */
  sumSquares(x: Float32Array): number;
  /**
   * The softmax log-likelihood of a target under S draws of logits per group, over rows of K classes:
   * ll[g, s] = Σ_p Σ_k t[g, p, k] · log softmax(x[g, s, p, :])_k (x [G, S, P, K], t [G, P, K]; a
   * one-hot target with all-zero rows for ignored pixels gives the summed log-probability of the
   * labels). lse[g, s, p] = log Σ_k exp x[g, s, p, k] is written for the gradient. Each row as
   * max + log Σ exp(x − max) (exp by a vectorised polynomial, relative error below 2·10⁻⁷); sums
   * over rows carried in double; a NaN logit makes its draw's ll NaN.
   */
  softmaxLogLikelihood(x: Float32Array, t: Float32Array, ll: Float32Array, lse: Float32Array, s: SoftmaxLikelihoodShape): void;
  /** Its gradient: dx[g, s, p, k] = dll[g, s] · (t[g, p, k] − exp(x[g, s, p, k] − lse[g, s, p]) · Σ_k t[g, p, k]). */
  softmaxLogLikelihoodGrad(x: Float32Array, t: Float32Array, lse: Float32Array, dll: Float32Array, dx: Float32Array, s: SoftmaxLikelihoodShape): void;
  /**
   * Fills `out` with standard-normal values that depend on (seed, index) only, not on the thread
   * count: two rounds of a 32-bit hash of each index under a key from the seed give a uniform on
   * 2^23 cells, mapped by the inverse normal CDF (Acklam's approximation, relative error below
   * 1.2·10⁻⁹, evaluated in float; an AVX2 clone where the processor has it); values lie within
   * ±5.3. `seed`: an integer in [0, 2^53).
   */
  randomNormal(out: Float32Array, seed: number): void;
  info(): NativeInfo;
  /**
   * Threads per call (one setting per process), run on a persistent pool; 0 restores the default
   * (the CPUs in the process's affinity mask, or PROBUNET_NATIVE_THREADS).
   */
  setThreads(n: number): void;
  /**
   * The micro-kernel for the calls that follow (one setting per process; for comparisons and
   * tests). Throws when the processor lacks it (`info().isas` lists what it has).
   */
  setIsa(isa: NativeIsa): void;
  /**
   * Winograd F(2×2, 3×3) (true, the default) or the direct product (false) for the convolutions
   * that qualify (one setting per process; for comparisons and tests).
   */
  setWinograd(on: boolean): void;
}

/** The sizes of `softmaxLogLikelihood`: G groups (each with its own target) of S draws of P rows of K classes. */
export interface SoftmaxLikelihoodShape {
  groups: number;
  draws: number;
  rows: number;
  classes: number;
}

/** Adam's hyperparameters for one step (stepSize: the learning rate with both bias corrections). */
export interface AdamHyperparameters {
  beta1: number;
  beta2: number;
  epsilon: number;
  stepSize: number;
}

export class NativeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeUnavailableError';
  }
}

interface RawAddon {
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, batchA: number, batchB: number, m: number, n: number, k: number, transA: boolean, transB: boolean, bias: Float32Array | null, act: number, alpha: number): void;
  conv2d(x: Float32Array, f: Float32Array, out: Float32Array, shape: number[], bias: Float32Array | null, act: number, alpha: number): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, shape: number[]): void;
  conv2dBackpropInput(dy: Float32Array, f: Float32Array, dx: Float32Array, shape: number[]): void;
  sumLeading(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  copyColumns(src: Float32Array, rows: number, srcCols: number, colStart: number, width: number, dst: Float32Array): void;
  avgPoolGradValid(dy: Float32Array, dx: Float32Array, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, fh: number, fw: number, sh: number, sw: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  addN(xs: Float32Array[], out: Float32Array): void;
  binaryStrided(op: number, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[], out: Float32Array, dims: readonly number[]): void;
  sumAxes(x: Float32Array, outer: number, rows: number, cols: number, out: Float32Array): void;
  maxAxes(x: Float32Array, outer: number, rows: number, cols: number, out: Float32Array): void;
  avgPoolValid(x: Float32Array, out: Float32Array, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, fh: number, fw: number, sh: number, sw: number): void;
  pasteColumns(src: Float32Array, rows: number, width: number, dst: Float32Array, dstCols: number, colStart: number): void;
  resizeBilinear(x: Float32Array, out: Float32Array, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, alignCorners: boolean, halfPixelCenters: boolean): void;
  resizeBilinearGrad(dy: Float32Array, dx: Float32Array, batch: number, yH: number, yW: number, channels: number, xH: number, xW: number, alignCorners: boolean): void;
  reluGradBias(dy: Float32Array, y: Float32Array, dx: Float32Array, db: Float32Array, rows: number, cols: number): void;
  adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array | null, v: Float32Array | null, wOut: Float32Array, mOut: Float32Array, vOut: Float32Array, h: number[]): number;
  sumSquares(x: Float32Array): number;
  softmaxLogLikelihood(x: Float32Array, t: Float32Array, ll: Float32Array, lse: Float32Array, groups: number, draws: number, rows: number, classes: number): void;
  softmaxLogLikelihoodGrad(x: Float32Array, t: Float32Array, lse: Float32Array, dll: Float32Array, dx: Float32Array, groups: number, draws: number, rows: number, classes: number): void;
  randomNormal(out: Float32Array, seed: number): void;
  info(): NativeInfo;
  setThreads(n: number): void;
  setIsa(isa: string): void;
  setWinograd(on: boolean): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const builtAddonPath = join(packageRoot, 'build', 'Release', 'probunet_native.node');

/** What the install-time build recorded (build/status.json), if it ran. */
export function nativeBuildStatus(): { ok: boolean; reason?: string } | null {
  const file = join(packageRoot, 'build', 'status.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { ok: boolean; reason?: string };
  } catch {
    return null;
  }
}

function activationCode(name: NativeActivation | undefined): number {
  const code = ACTIVATION_CODES[name ?? 'linear'];
  if (code === undefined) {
    throw new RangeError(`unknown activation "${String(name)}"; choose one of ${Object.keys(ACTIVATION_CODES).join(', ')}`);
  }
  return code;
}

function shapeArray(s: ConvGeometry): number[] {
  return [s.batch, s.inH, s.inW, s.inC, s.outH, s.outW, s.outC, s.kh, s.kw, s.strideH, s.strideW, s.dilH, s.dilW, s.padTop, s.padLeft];
}

let cached: NativeKernels | null = null;

/**
 * Loads the compiled addon (build/Release/probunet_native.node, or the file PROBUNET_NATIVE_ADDON
 * names). Throws NativeUnavailableError saying why (not compiled at install, and the reason the
 * build gave; or the addon failed to load) and how to rebuild it.
 */
export function loadNativeKernels(): NativeKernels {
  if (cached) return cached;
  // Another build of the same sources (the sanitizer build: npm run test:sanitize).
  const override = process.env.PROBUNET_NATIVE_ADDON;
  if (override && !existsSync(override)) {
    throw new NativeUnavailableError(`PROBUNET_NATIVE_ADDON=${override} does not exist; unset it to load ${builtAddonPath}`);
  }
  const addonPath = override || builtAddonPath;
  if (!existsSync(addonPath)) {
    const status = nativeBuildStatus();
    const why =
      status?.reason ??
      'the install-time build did not run: npm skipped its install script (--ignore-scripts, or allowScripts in your package.json denies it, or does not list it under strict-allow-scripts); allow it with "allowScripts": { "@probunet/native": true }';
    throw new NativeUnavailableError(
      `@probunet/native is not compiled (${why}); the native and wasm-native backends are unavailable. Build it with: npm rebuild @probunet/native (needs python3, make and a C++ compiler)`,
    );
  }
  let raw: RawAddon;
  try {
    raw = createRequire(import.meta.url)(addonPath) as RawAddon;
  } catch (err) {
    throw new NativeUnavailableError(`@probunet/native failed to load ${addonPath}: ${(err as Error).message.split('\n')[0]}`);
  }
  cached = {
    gemm(g) {
      raw.gemm(g.a, g.b, g.c, g.batch ?? 1, g.batchA ?? g.batch ?? 1, g.batchB ?? g.batch ?? 1, g.m, g.n, g.k, !!g.transA, !!g.transB, g.bias ?? null, activationCode(g.activation), g.alpha ?? 0);
    },
    conv2d(x, filter, out, s, ep = {}) {
      raw.conv2d(x, filter, out, shapeArray(s), ep.bias ?? null, activationCode(ep.activation), ep.alpha ?? 0);
    },
    conv2dBackpropFilter: (x, dy, dw, s) => raw.conv2dBackpropFilter(x, dy, dw, shapeArray(s)),
    conv2dBackpropInput: (dy, filter, dx, s) => raw.conv2dBackpropInput(dy, filter, dx, shapeArray(s)),
    sumLeading: (x, rows, cols, out) => raw.sumLeading(x, rows, cols, out),
    copyColumns: (src, rows, srcCols, colStart, width, dst) => raw.copyColumns(src, rows, srcCols, colStart, width, dst),
    avgPoolGradValid: (dy, dx, p) => raw.avgPoolGradValid(dy, dx, p.batch, p.inH, p.inW, p.channels, p.outH, p.outW, p.filterH, p.filterW, p.strideH, p.strideW),
    binary(op, a, b, out) {
      const code = BINARY_OP_CODES[op];
      if (code === undefined) throw new RangeError(`unknown binary op "${String(op)}"; choose one of ${Object.keys(BINARY_OP_CODES).join(', ')}`);
      raw.binary(code, a, b, out);
    },
    unary(op, x, out, alpha = 0) {
      const code = UNARY_OP_CODES[op];
      if (code === undefined) throw new RangeError(`unknown unary op "${String(op)}"; choose one of ${Object.keys(UNARY_OP_CODES).join(', ')}`);
      raw.unary(code, x, out, alpha);
    },
    addN: (xs, out) => raw.addN(xs, out),
    binaryStrided(op, a, aStrides, b, bStrides, out, dims) {
      const code = BINARY_OP_CODES[op];
      if (code === undefined) throw new RangeError(`unknown binary op "${String(op)}"; choose one of ${Object.keys(BINARY_OP_CODES).join(', ')}`);
      raw.binaryStrided(code, a, aStrides, b, bStrides, out, dims);
    },
    sumAxes: (x, outer, rows, cols, out) => raw.sumAxes(x, outer, rows, cols, out),
    maxAxes: (x, outer, rows, cols, out) => raw.maxAxes(x, outer, rows, cols, out),
    avgPoolValid: (x, out, p) => raw.avgPoolValid(x, out, p.batch, p.inH, p.inW, p.channels, p.outH, p.outW, p.filterH, p.filterW, p.strideH, p.strideW),
    pasteColumns: (src, rows, width, dst, dstCols, colStart) => raw.pasteColumns(src, rows, width, dst, dstCols, colStart),
    resizeBilinear: (x, out, r) => raw.resizeBilinear(x, out, r.batch, r.inH, r.inW, r.channels, r.outH, r.outW, r.alignCorners, r.halfPixelCenters),
    reluGradBias: (dy, y, dx, db, rows, cols) => raw.reluGradBias(dy, y, dx, db, rows, cols),
    adamUpdate: (w, g, m, v, out, h) => raw.adamUpdate(w, g, m, v, out.w, out.m, out.v, [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.epsilon, h.stepSize]),
    sumSquares: (x) => raw.sumSquares(x),
    softmaxLogLikelihood: (x, t, ll, lse, s) => raw.softmaxLogLikelihood(x, t, ll, lse, s.groups, s.draws, s.rows, s.classes),
    softmaxLogLikelihoodGrad: (x, t, lse, dll, dx, s) => raw.softmaxLogLikelihoodGrad(x, t, lse, dll, dx, s.groups, s.draws, s.rows, s.classes),
    resizeBilinearGrad: (dy, dx, r) => raw.resizeBilinearGrad(dy, dx, r.batch, r.outH, r.outW, r.channels, r.inH, r.inW, r.alignCorners),
    randomNormal: (out, seed) => raw.randomNormal(out, seed),
    info: () => raw.info(),
    setThreads: (n) => raw.setThreads(n),
    setIsa: (isa) => raw.setIsa(isa),
    setWinograd: (on) => raw.setWinograd(on),
  };
  return cached;
}
