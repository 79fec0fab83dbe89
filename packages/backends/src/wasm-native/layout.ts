import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { isF32, type KernelArgs } from './wasm-internals.js';

/** SplitV along the channel axis. */
export function splitV(native: NativeKernels, args: KernelArgs): tf.TensorInfo[] | null {
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

/** AvgPoolGrad without padding. */
export function avgPoolGrad(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
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

/** Identity that shares its input's data (wasm copies; tensors are immutable). */
export function identity(args: KernelArgs): tf.TensorInfo | null {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return null;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
