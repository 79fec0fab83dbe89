import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { isF32, type KernelArgs } from './host.js';

/** The sorted axes a Sum/Mean reduces, when they form one contiguous run; else null. */
function contiguousAxes(args: KernelArgs): { first: number; end: number } | null {
  const x = args.inputs.x as tf.TensorInfo;
  const attrs = (args.attrs ?? {}) as { axis: number | number[] };
  const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.some((a, i) => a !== axes[0]! + i)) return null;
  return { first: axes[0]!, end: axes.at(-1)! + 1 };
}

/**
 * Sum over a leading run of axes (every bias gradient): wasm-native's Sum; the host does trailing
 * reductions well itself.
 */
export function sum(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  return contiguousAxes(args)?.first === 0 ? sumContiguous(native, args) : null;
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
  return reduceContiguous(native, args, 'sum');
}

/** Max over any contiguous run of axes (log-softmax's max over the classes): the native backend's Max. */
export function maxContiguous(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  return reduceContiguous(native, args, 'max');
}

function reduceContiguous(native: NativeKernels, args: KernelArgs, op: 'sum' | 'max'): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const x = inputs.x as tf.TensorInfo;
  const attrs = (args.attrs ?? {}) as { keepDims?: boolean; reductionIndices?: number | number[]; axis?: number | number[] };
  // Max names its axes reductionIndices; Sum and Mean, axis (null: every axis).
  const axis = op === 'max' ? attrs.reductionIndices : attrs.axis;
  const run = isF32(x) ? contiguousAxes({ ...args, attrs: { axis } as unknown as tf.NamedAttrMap }) : null;
  if (!run) return null;
  const { first, end } = run;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const rows = tf.util.sizeFromShape(x.shape.slice(first, end));
  const cols = tf.util.sizeFromShape(x.shape.slice(end));
  if (op === 'max' && rows === 0) return null; // the host's kernel says what the max of nothing is
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i < end ? 1 : d)) : [...x.shape.slice(0, first), ...x.shape.slice(end)];
  const out = backend.makeOutput(outShape, 'float32');
  if (outer * cols === 0) return out;
  const [src, dst] = [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
  if (op === 'sum') native.sumAxes(src, outer, rows, cols, dst);
  else native.maxAxes(src, outer, rows, cols, dst);
  return out;
}
