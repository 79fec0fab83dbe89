import * as tf from '@tensorflow/tfjs-core';
import { CAPABILITY_KERNELS } from '@probunet/core/internal';
import type { NativeKernels } from '@probunet/native';
import { isF32, type KernelArgs } from './host.js';

/**
 * Kernels with no TensorFlow.js counterpart: each replaces a chain of element-wise kernels of
 * @probunet/core's training step with one pass over memory. Core calls them only where the running
 * backend registers them (`backendCapabilities`), and its own chain elsewhere; both give the same
 * float32 values (the parity tests check).
 */

/**
 * `ProbunetReluGradBias` {dy, y} → [dx, db]: the gradient through a relu whose output is y, and of
 * the bias added before it: dx = dy · step(y), db = Σ of dx over every axis but the last.
 */
export function reluGradBias(native: NativeKernels, args: KernelArgs): tf.TensorInfo[] | null {
  const { inputs, backend } = args;
  const dy = inputs.dy as tf.TensorInfo;
  const y = inputs.y as tf.TensorInfo;
  if (!isF32(dy, y) || !tf.util.arraysEqual(dy.shape, y.shape) || dy.shape.length === 0) return null;
  const cols = dy.shape.at(-1)!;
  const rows = cols === 0 ? 0 : tf.util.sizeFromShape(dy.shape) / cols;
  const dx = backend.makeOutput([...dy.shape], 'float32');
  const db = backend.makeOutput([cols], 'float32');
  native.reluGradBias(backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(y), backend.typedArrayFromHeap(dx), backend.typedArrayFromHeap(db), rows, cols);
  return [dx, db];
}

/**
 * `ProbunetAdamUpdate` {w, g, m?, v?} with attrs {beta1, beta2, epsilon, stepSize} → [w', m', v', Σu²]
 * (m and v absent: the first step). See @probunet/native's adamUpdate for the arithmetic.
 */
export function adamUpdate(native: NativeKernels, args: KernelArgs): tf.TensorInfo[] | null {
  const { inputs, backend } = args;
  const { w, g, m, v } = inputs as Record<string, tf.TensorInfo | undefined>;
  if (!w || !g || !isF32(w, g, m, v) || (m === undefined) !== (v === undefined)) return null;
  if ([g, m, v].some((t) => t !== undefined && !tf.util.arraysEqual(t.shape, w.shape))) return null;
  const { beta1, beta2, epsilon, stepSize } = (args.attrs ?? {}) as { beta1: number; beta2: number; epsilon: number; stepSize: number };
  const outs = [0, 1, 2].map(() => backend.makeOutput([...w.shape], 'float32'));
  const sumSq = backend.makeOutput([], 'float32');
  const read = (t: tf.TensorInfo | undefined) => (t ? backend.typedArrayFromHeap(t) : null);
  const total = native.adamUpdate(read(w)!, read(g)!, read(m), read(v), { w: read(outs[0])!, m: read(outs[1])!, v: read(outs[2])! }, { beta1, beta2, epsilon, stepSize });
  backend.typedArrayFromHeap(sumSq)[0] = total;
  return [...outs, sumSq];
}

/**
 * `ProbunetSumSquares` [x0, x1, …] → Σ over all of them of Σ x² (float32 scalar): a gradient norm
 * or a weight-decay value in one call (float sums of 256 terms carried in double; NaN or Infinity
 * when any term is).
 */
export function sumSquares(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { backend } = args;
  const xs = Object.values(args.inputs as unknown as Record<string, tf.TensorInfo>);
  if (!isF32(...xs)) return null;
  let total = 0;
  for (const x of xs) if (tf.util.sizeFromShape(x.shape) > 0) total += native.sumSquares(backend.typedArrayFromHeap(x));
  const out = backend.makeOutput([], 'float32');
  backend.typedArrayFromHeap(out)[0] = total;
  return out;
}

/** The fused kernels by name (registered on native and wasm-native). */
export const FUSED_KERNELS = {
  [CAPABILITY_KERNELS.fusedReluGrad]: reluGradBias,
  [CAPABILITY_KERNELS.fusedAdam]: adamUpdate,
  [CAPABILITY_KERNELS.fusedSumSquares]: sumSquares,
} as const;
