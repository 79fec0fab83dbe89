import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { isF32, type KernelArgs } from './wasm-internals.js';

/** Sum over a leading run of axes (every bias gradient). */
export function sum(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
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
