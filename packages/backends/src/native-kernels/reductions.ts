import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { isF32, type KernelArgs } from './host.js';

/** Sum over a leading run of axes (every bias gradient). */
export function sum(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { axis: number | number[]; keepDims?: boolean };
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x)) return null;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  // Only a leading run of axes (0, 1, …, r-1): the host does trailing reductions well itself.
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

/** Mean over any contiguous run of axes: the sum, scaled in place. */
export function meanContiguous(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const out = sumContiguous(native, args);
  if (!out) return null;
  const x = args.inputs.x as tf.TensorInfo;
  const count = tf.util.sizeFromShape(x.shape) / Math.max(1, tf.util.sizeFromShape(out.shape));
  const values = args.backend.typedArrayFromHeap(out);
  native.binary('div', values, new Float32Array([count]), values);
  return out;
}

/** Sum over any contiguous run of axes (leading, middle or trailing): the native backend's Sum. */
export function sumContiguous(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as { axis: number | number[]; keepDims?: boolean };
  const x = inputs.x as tf.TensorInfo;
  if (!isF32(x)) return null;
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0]! + i)) return null;
  const [first, end] = [axes[0]!, axes.at(-1)! + 1];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const rows = tf.util.sizeFromShape(x.shape.slice(first, end));
  const cols = tf.util.sizeFromShape(x.shape.slice(end));
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i < end ? 1 : d)) : [...x.shape.slice(0, first), ...x.shape.slice(end)];
  const out = backend.makeOutput(outShape, 'float32');
  if (outer * cols === 0) return out;
  native.sumAxes(backend.typedArrayFromHeap(x), outer, rows, cols, backend.typedArrayFromHeap(out));
  return out;
}
