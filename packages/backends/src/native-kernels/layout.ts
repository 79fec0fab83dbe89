import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels, PoolGeometry } from '@probunet/native';
import { isF32, type KernelArgs } from './host.js';

/** SplitV along the channel axis. */
export function splitV(native: NativeKernels, args: KernelArgs): tf.TensorInfo[] | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { numOrSizeSplits: number | number[]; axis: number };
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x) || x.shape.length === 0) return null;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  if (axis !== x.shape.length - 1) return null; // along other axes the pieces are contiguous: the host's slices do well
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits, axis);
  const srcCols = x.shape[axis]!;
  const rows = tf.util.sizeFromShape(x.shape.slice(0, -1));
  const outs = sizes.map((size) => backend.makeOutput([...x.shape.slice(0, -1), size], 'float32'));
  // Views only after every allocation (on wasm, the heap may have grown).
  const src = backend.typedArrayFromHeap(x);
  let start = 0;
  outs.forEach((o, i) => {
    const width = sizes[i]!;
    if (rows > 0 && width > 0) native.copyColumns(src, rows, srcCols, start, width, backend.typedArrayFromHeap(o));
    start += width;
  });
  return outs;
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The pooling geometry of an NHWC input, or null when the windows are padded (not covered). */
function validPool(shape: number[], args: KernelArgs): { info: tf.backend_util.Conv2DInfo; geometry: PoolGeometry } | null {
  const attrs = (args.attrs ?? {}) as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  if (top || bottom || left || right) return null;
  const geometry = {
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
  };
  return { info, geometry };
}

/** AvgPoolGrad without padding. */
export function avgPoolGrad(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const dy = inputs.dy as tf.TensorInfo;
  const input = inputs.input as tf.TensorInfo;
  if (!isF32(dy, input) || input.shape.length !== 4) return null;
  const pool = validPool(input.shape, args);
  if (!pool || !tf.util.arraysEqual(dy.shape, pool.info.outShape)) return null;
  const out = backend.makeOutput(input.shape, 'float32');
  if (tf.util.sizeFromShape(input.shape) === 0) return out;
  native.avgPoolGradValid(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out), pool.geometry);
  return out;
}

/** Identity that shares its input's data (wasm's copies; tensors are immutable). */
export function identity(args: KernelArgs): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return null;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** AvgPool without padding (forward). */
export function avgPool(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x) || x.shape.length !== 4) return null;
  const pool = validPool(x.shape, args);
  if (!pool) return null;
  const out = backend.makeOutput(pool.info.outShape, 'float32');
  if (tf.util.sizeFromShape(pool.info.outShape) === 0) return out;
  native.avgPoolValid(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), pool.geometry);
  return out;
}

/** Concat of float32 tensors along any axis: each input's rows pasted into the output's. */
export function concat(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const xs = (inputs as unknown as tf.TensorInfo[]).filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const all = inputs as unknown as tf.TensorInfo[];
  if (all.length === 0 || !isF32(...all)) return null;
  const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, all[0]!.shape)[0]!;
  let outShape: number[];
  try {
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
    outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
  } catch {
    return null; // the host kernel raises its own error
  }
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
  const dstCols = tf.util.sizeFromShape(outShape.slice(axis));
  const dst = backend.typedArrayFromHeap(out);
  let start = 0;
  for (const x of xs) {
    const width = tf.util.sizeFromShape(x.shape.slice(axis));
    native.pasteColumns(backend.typedArrayFromHeap(x), rows, width, dst, dstCols, start);
    start += width;
  }
  return out;
}

/**
 * OneHot with a float32 output, into the backend's pooled arrays (cpu's allocates a fresh one per
 * call: at batch 32, an 8 MB array page-faulted in every train step). JavaScript, as cpu's; the
 * same values: offValue everywhere, onValue at each index in [0, depth).
 */
export function oneHot(_native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const indices = inputs.indices as tf.TensorInfo;
  const { depth, onValue, offValue, dtype } = (args.attrs ?? {}) as { depth: number; onValue: number; offValue: number; dtype: tf.DataType };
  if (dtype !== 'float32' || !(depth >= 0)) return null;
  const n = tf.util.sizeFromShape(indices.shape);
  const out = backend.makeOutput([...indices.shape, depth], 'float32');
  const o = backend.typedArrayFromHeap(out);
  o.fill(offValue);
  const idx = backend.readSync(indices.dataId) as tf.TypedArray;
  for (let i = 0; i < n; i++) {
    const k = idx[i]!;
    if (k >= 0 && k < depth) o[i * depth + k] = onValue;
  }
  return out;
}

/** ResizeBilinear of NHWC float32 images. */
export function resizeBilinear(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { alignCorners: boolean; halfPixelCenters: boolean; size: [number, number] };
  const x = inputs.images as tf.TensorInfo;
  if (!isF32(x) || x.shape.length !== 4) return null;
  const [batch, inH, inW, channels] = x.shape as [number, number, number, number];
  const [outH, outW] = attrs.size;
  if (inH === 0 || inW === 0) return null;
  const out = backend.makeOutput([batch, outH, outW, channels], 'float32');
  if (batch * outH * outW * channels === 0) return out;
  native.resizeBilinear(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), { batch, inH, inW, channels, outH, outW, alignCorners: !!attrs.alignCorners, halfPixelCenters: !!attrs.halfPixelCenters });
  return out;
}

/** ResizeBilinearGrad (halfPixelCenters false, as TensorFlow.js's own kernels compute it). */
export function resizeBilinearGrad(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { alignCorners: boolean; halfPixelCenters?: boolean };
  const images = inputs.images as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  if (!isF32(dy) || images.shape.length !== 4 || dy.shape.length !== 4 || attrs.halfPixelCenters) return null;
  const [batch, inH, inW, channels] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  if (inH === 0 || inW === 0) return null;
  const out = backend.makeOutput([batch, inH, inW, channels], 'float32');
  if (batch * inH * inW * channels === 0) return out;
  native.resizeBilinearGrad(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out), { batch, inH, inW, channels, outH, outW, alignCorners: !!attrs.alignCorners });
  return out;
}
