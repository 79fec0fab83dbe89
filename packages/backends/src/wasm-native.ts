import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry, NativeActivation, NativeKernels } from '@probunet/native';

/**
 * The `wasm-native` backend: TensorFlow.js's wasm backend with its convolution and matrix-product
 * kernels (Conv2D, FusedConv2D, BatchMatMul, _FusedMatMul) run by @probunet/native — our own C++,
 * compiled at install, multi-threaded, AVX2 + FMA where the processor has them — on the wasm heap's
 * memory in place (no copies). Every other kernel stays wasm's own.
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
  dataIdMap: { get(dataId: object): WasmTensorData };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

type KernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;

const REPLACED = ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul'] as const;

let enabled = false;
let installedWith: NativeKernels | null = null;
const counters = { native: 0, fallback: 0 };

/** Counts of kernel calls run natively and passed back to wasm since installation (for tests and reports). */
export function nativeKernelCounters(): { native: number; fallback: number } {
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
  const g: ConvGeometry = {
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
  native.conv2d(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(out), g, {
    bias: bias ? backend.typedArrayFromHeap(bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0,
  });
  return out;
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
 * Replaces wasm's conv and matmul kernels with ones that run `native` while enabled. The wasm
 * backend package must already be imported (its kernels registered). Idempotent.
 */
export function installNativeKernels(native: NativeKernels): void {
  if (installedWith) {
    installedWith = native;
    return;
  }
  for (const name of REPLACED) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) throw new Error(`the wasm backend registers no ${name} kernel: import @tensorflow/tfjs-backend-wasm first`);
    const wasmKernel = original.kernelFunc as unknown as KernelFunc;
    const run: KernelFunc = (args) => {
      if (enabled && installedWith) {
        const r =
          name === 'Conv2D' || name === 'FusedConv2D'
            ? conv(installedWith, args, name === 'FusedConv2D')
            : matMul(installedWith, args, name === '_FusedMatMul');
        if (r) {
          counters.native++;
          return r;
        }
        counters.fallback++;
      }
      return wasmKernel(args);
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: run as unknown as tf.KernelFunc });
  }
  installedWith = native;
}
