import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry, NativeActivation, NativeKernels } from '@probunet/native';

/**
 * The `wasm-native` backend: TensorFlow.js's wasm backend with some kernels run by
 * @probunet/native (our own C++, compiled at install, multi-threaded, AVX2 + FMA where the
 * processor has them) on the wasm heap's memory in place, no copies:
 * - convolutions and matrix products: Conv2D, FusedConv2D, BatchMatMul, _FusedMatMul,
 *   Conv2DBackpropInput, and the Conv2DBackpropFilter wasm does not have;
 * - three memory-bound kernels wasm runs slowly on a U-Net's layouts: Sum over leading axes (every
 *   bias gradient), SplitV along the channel axis, AvgPoolGrad without padding;
 * - Identity, which shares its input's data instead of copying it.
 * Every other kernel stays wasm's own.
 *
 * The replacement kernels are registered for the backend name 'wasm' and are switched on and off
 * with {@link setNativeKernelsEnabled}: initBackend('wasm-native') turns them on, initBackend('wasm')
 * off. A case the native path does not cover (another data format or dtype, a prelu activation, a
 * broadcast it cannot express) falls through to wasm's own kernel.
 */

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
}
interface WasmBackendLike extends tf.KernelBackend {
  incRef(dataId: object): void;
  dataIdMap: { get(dataId: object): WasmTensorData };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

const REPLACED = ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Sum', 'SplitV', 'AvgPoolGrad', 'Identity'] as const;
/** Kernels wasm lacks altogether (training a stock tf.conv2d on wasm needs the first). */
const ADDED = ['Conv2DBackpropFilter'] as const;

let enabled = false;
let installedWith: NativeKernels | null = null;
const counters = { native: 0, fallback: 0, nativeMs: 0 };

/**
 * Kernel calls run natively and passed back to wasm since installation, and the wall time spent in
 * the native ones (for tests, benchmarks and reports).
 */
export function nativeKernelCounters(): { native: number; fallback: number; nativeMs: number } {
  return { ...counters };
}

export function setNativeKernelsEnabled(on: boolean): void {
  if (!on) {
    enabled = false;
    return;
  }
  if (!installedWith) throw new Error('the native kernels are not installed (initBackend("wasm-native") installs them)');
  enabled = on;
}

const ACTIVATIONS: Record<string, NativeActivation | undefined> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  leakyrelu: 'leakyrelu',
  sigmoid: 'sigmoid',
  elu: 'elu',
};

function isF32(...ts: Array<tf.TensorInfo | undefined>): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

function conv(native: NativeKernels, args: Parameters<KernelFunc>[0], fused: boolean): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW';
    dilations: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
    leakyreluAlpha?: number;
  };
  const x = inputs.x as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isF32(x, filter, bias)) return null;
  if (fused && inputs.preluActivationWeights) return null;
  const activation = fused ? ACTIVATIONS[attrs.activation ?? 'linear'] : 'linear';
  if (!activation) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
  const out = backend.makeOutput(info.outShape, 'float32');
  if (tf.util.sizeFromShape(info.outShape) === 0) return out;
  // Views after makeOutput: allocating may grow (and so replace) the wasm memory.
  native.conv2d(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(out), geometry(info), {
    bias: bias ? backend.typedArrayFromHeap(bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0,
  });
  return out;
}

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilH: info.dilationHeight,
    dilW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

interface BackpropAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

type Shape4 = [number, number, number, number];

/** The gradient of a convolution with respect to its filter (from x and dy) or its input (from dy and the filter). */
function conv2dBackprop(native: NativeKernels, args: Parameters<KernelFunc>[0], wrt: 'filter' | 'input'): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as BackpropAttrs;
  const dy = inputs.dy as tf.TensorInfo;
  const other = (wrt === 'filter' ? inputs.x : inputs.filter) as tf.TensorInfo;
  const outShape = wrt === 'filter' ? attrs.filterShape : attrs.inputShape;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isF32(dy, other) || !outShape) return null;
  const [xShape, filterShape] = wrt === 'filter' ? [other.shape as Shape4, outShape] : [outShape, other.shape as Shape4];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (wrt === 'input') {
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
    if (info.padInfo.top > info.filterHeight - 1 || info.padInfo.left > info.filterWidth - 1) return null;
  }
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const [o, d, r] = [backend.typedArrayFromHeap(other), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out)];
  if (wrt === 'filter') native.conv2dBackpropFilter(o, d, r, geometry(info));
  else native.conv2dBackpropInput(d, o, r, geometry(info));
  return out;
}

function sum(native: NativeKernels, args: Parameters<KernelFunc>[0]): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { axis: number | number[]; keepDims?: boolean };
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x)) return null;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  // Only a leading run of axes (0, 1, …, r-1): wasm does trailing reductions well itself.
  if (axes.length === 0 || axes.some((a, i) => a !== i)) return null;
  const r = axes.length;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, r));
  const cols = tf.util.sizeFromShape(x.shape.slice(r));
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < r ? 1 : d)) : x.shape.slice(r);
  const out = backend.makeOutput(outShape, 'float32');
  if (cols === 0) return out;
  if (rows === 0) {
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  native.sumLeading(backend.typedArrayFromHeap(x), rows, cols, backend.typedArrayFromHeap(out));
  return out;
}

function splitV(native: NativeKernels, args: Parameters<KernelFunc>[0]): tf.TensorInfo[] | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { numOrSizeSplits: number | number[]; axis: number };
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x) || x.shape.length === 0) return null;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  if (axis !== x.shape.length - 1) return null; // along other axes the pieces are contiguous: wasm's slices do well
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  const srcCols = x.shape[axis]!;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, -1));
  const outs = sizes.map((size) => backend.makeOutput([...x.shape.slice(0, -1), size], 'float32'));
  // Views only after every allocation (the wasm memory may have grown).
  const src = backend.typedArrayFromHeap(x);
  let start = 0;
  outs.forEach((o, i) => {
    const width = sizes[i]!;
    if (rows > 0 && width > 0) native.copyColumns(src, rows, srcCols, start, width, backend.typedArrayFromHeap(o));
    start += width;
  });
  return outs;
}

function avgPoolGrad(native: NativeKernels, args: Parameters<KernelFunc>[0]): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const dy = inputs.dy as tf.TensorInfo;
  const input = inputs.input as tf.TensorInfo;
  if (!isF32(dy, input) || input.shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  if (top || bottom || left || right) return null;
  if (!tf.util.arraysEqual(dy.shape, info.outShape)) return null;
  const out = backend.makeOutput(input.shape, 'float32');
  if (tf.util.sizeFromShape(input.shape) === 0) return out;
  native.avgPoolGradValid(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out), {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    channels: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    filterH: info.filterHeight,
    filterW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
  });
  return out;
}

function runNative(name: string, native: NativeKernels, args: Parameters<KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] | null {
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D':
      return conv(native, args, name === 'FusedConv2D');
    case 'BatchMatMul':
    case '_FusedMatMul':
      return matMul(native, args, name === '_FusedMatMul');
    case 'Conv2DBackpropFilter':
      return conv2dBackprop(native, args, 'filter');
    case 'Conv2DBackpropInput':
      return conv2dBackprop(native, args, 'input');
    case 'Sum':
      return sum(native, args);
    case 'SplitV':
      return splitV(native, args);
    case 'AvgPoolGrad':
      return avgPoolGrad(native, args);
    case 'Identity': {
      // wasm copies; tensors are immutable, so the output can share the input's data (as wasm's
      // own Reshape and the cpu backend's Identity do).
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return null;
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }
    default:
      return null;
  }
}

function matMul(native: NativeKernels, args: Parameters<KernelFunc>[0], fused: boolean): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
  if (!isF32(a, b, bias) || a.shape.length < 2 || b.shape.length < 2) return null;
  if (fused && inputs.preluActivationWeights) return null;
  const activation = fused ? ACTIVATIONS[attrs.activation ?? 'linear'] : 'linear';
  if (!activation) return null;
  const transA = !!attrs.transposeA;
  const transB = !!attrs.transposeB;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) return null; // let wasm raise its own shape error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const batch = tf.util.sizeFromShape(outer);
  // Expressible as a strided batch only when each side is either whole or a single matrix.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  if (batchA === batch && batchB === batch && !tf.util.arraysEqual(outerA, outerB)) return null;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) return null;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  native.gemm({
    a: backend.typedArrayFromHeap(a),
    b: backend.typedArrayFromHeap(b),
    c: backend.typedArrayFromHeap(out),
    m,
    n,
    k,
    transA,
    transB,
    batch,
    batchA,
    batchB,
    bias: bias ? backend.typedArrayFromHeap(bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0,
  });
  return out;
}

/**
 * Replaces the wasm kernels listed at the top with ones that run `native` while enabled. The wasm
 * backend package must already be imported (its kernels registered). Idempotent.
 */
export function installNativeKernels(native: NativeKernels): void {
  if (installedWith) {
    installedWith = native;
    return;
  }
  for (const name of [...REPLACED, ...ADDED]) {
    const original = tf.getKernel(name, 'wasm');
    if (!original && (REPLACED as readonly string[]).includes(name)) {
      throw new Error(`the wasm backend registers no ${name} kernel: import @tensorflow/tfjs-backend-wasm first`);
    }
    const wasmKernel = original?.kernelFunc as unknown as KernelFunc | undefined;
    const run: KernelFunc = (args) => {
      if (enabled && installedWith) {
        const t0 = performance.now();
        const r = runNative(name, installedWith, args);
        if (r) {
          counters.native++;
          counters.nativeMs += performance.now() - t0;
          return r;
        }
        counters.fallback++;
      }
      if (!wasmKernel) {
        throw new Error(`the wasm backend has no ${name} kernel${enabled ? ' for these arguments' : ''} (initBackend('wasm-native') provides one for NHWC float32)`);
      }
      return wasmKernel(args);
    };
    if (original) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...(original ?? {}), kernelName: name, backendName: 'wasm', kernelFunc: run as unknown as tf.KernelFunc });
  }
  installedWith = native;
}
