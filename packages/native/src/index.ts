import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Epilogue activations, applied after the bias: the codes the addon takes. */
export const ACTIVATION_CODES = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 } as const;
export type NativeActivation = keyof typeof ACTIVATION_CODES;

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

export interface NativeInfo {
  /** True when the AVX2 + FMA micro-kernel runs; false: the portable C++ one. */
  avx2: boolean;
  /** Threads one call uses. */
  threads: number;
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
  info(): NativeInfo;
  /**
   * Threads per call (one setting per process), run on a persistent pool; 0 restores the default
   * (the CPUs in the process's affinity mask, or PROBUNET_NATIVE_THREADS).
   */
  setThreads(n: number): void;
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
  avgPoolGradValid(dy: Float32Array, dx: Float32Array, batch: number, outH: number, outW: number, channels: number, inH: number, inW: number, fh: number, fw: number, sh: number, sw: number): void;
  info(): NativeInfo;
  setThreads(n: number): void;
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
    const why = status?.reason ?? 'the install-time build did not run';
    throw new NativeUnavailableError(`@probunet/native is not compiled (${why}); rebuild with: npm run build:native -w @probunet/native (needs python3, make and a C++ compiler)`);
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
    avgPoolGradValid: (dy, dx, p) => raw.avgPoolGradValid(dy, dx, p.batch, p.outH, p.outW, p.channels, p.inH, p.inW, p.filterH, p.filterW, p.strideH, p.strideW),
    info: () => raw.info(),
    setThreads: (n) => raw.setThreads(n),
  };
  return cached;
}
