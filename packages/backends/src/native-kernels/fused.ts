import * as tf from '@tensorflow/tfjs-core';
import { CAPABILITY_KERNELS, SOFTMAX_LIKELIHOOD_GRAD_KERNEL } from '@probunet/core/internal';
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

/** G, S, P, K of logits [G,S,…,K] against a target [G,…,K], or null when the shapes do not fit. */
function likelihoodShape(x: tf.TensorInfo, t: tf.TensorInfo): { groups: number; draws: number; rows: number; classes: number } | null {
  if (x.shape.length < 3 || t.shape.length !== x.shape.length - 1 || x.shape[0] !== t.shape[0] || !tf.util.arraysEqual(x.shape.slice(2), t.shape.slice(1))) return null;
  const classes = x.shape.at(-1)!;
  return { groups: x.shape[0]!, draws: x.shape[1]!, rows: tf.util.sizeFromShape(x.shape.slice(2, -1)), classes };
}

/**
 * `ProbunetSoftmaxLogLikelihood` {x [G,S,…,K], t [G,…,K]} → [ll [G,S], lse [G,S,P]]: the label
 * log-likelihood of each draw of logits, Σ_pixels Σ_k t · log softmax(x), and each row's
 * log-sum-exp for the gradient (see @probunet/native's softmaxLogLikelihood).
 */
export function softmaxLogLikelihood(native: NativeKernels, args: KernelArgs): tf.TensorInfo[] | null {
  const { inputs, backend } = args;
  const x = inputs.x as tf.TensorInfo;
  const t = inputs.t as tf.TensorInfo;
  const s = isF32(x, t) ? likelihoodShape(x, t) : null;
  if (!s) return null;
  const ll = backend.makeOutput([s.groups, s.draws], 'float32');
  const lse = backend.makeOutput([s.groups, s.draws, s.rows], 'float32');
  native.softmaxLogLikelihood(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(t), backend.typedArrayFromHeap(ll), backend.typedArrayFromHeap(lse), s);
  return [ll, lse];
}

/** `ProbunetSoftmaxLogLikelihoodGrad` {x, t, lse, dll} → dx = dll · (t − softmax(x) · Σ_k t), x's shape. */
export function softmaxLogLikelihoodGrad(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const { x, t, lse, dll } = inputs as Record<string, tf.TensorInfo>;
  const s = x && t && lse && dll && isF32(x, t, lse, dll) ? likelihoodShape(x, t) : null;
  if (!s || tf.util.sizeFromShape(lse!.shape) !== s.groups * s.draws * s.rows || tf.util.sizeFromShape(dll!.shape) !== s.groups * s.draws) return null;
  const dx = backend.makeOutput([...x!.shape], 'float32');
  native.softmaxLogLikelihoodGrad(backend.typedArrayFromHeap(x!), backend.typedArrayFromHeap(t!), backend.typedArrayFromHeap(lse!), backend.typedArrayFromHeap(dll!), backend.typedArrayFromHeap(dx), s);
  return dx;
}

/** `ProbunetRandomNormal` {} with attrs {shape, seed} → standard-normal float32 values (see @probunet/native's randomNormal). */
export function randomNormal(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { shape, seed } = (args.attrs ?? {}) as { shape?: number[]; seed?: number };
  if (!Array.isArray(shape) || typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) return null;
  const out = args.backend.makeOutput([...shape], 'float32');
  if (tf.util.sizeFromShape(shape) > 0) native.randomNormal(args.backend.typedArrayFromHeap(out), seed);
  return out;
}

/** The fused kernels by name (registered on native and wasm-native). */
export const FUSED_KERNELS = {
  [CAPABILITY_KERNELS.fusedReluGrad]: reluGradBias,
  [CAPABILITY_KERNELS.fusedAdam]: adamUpdate,
  [CAPABILITY_KERNELS.fusedSumSquares]: sumSquares,
  [CAPABILITY_KERNELS.fusedSoftmaxLikelihood]: softmaxLogLikelihood,
  [SOFTMAX_LIKELIHOOD_GRAD_KERNEL]: softmaxLogLikelihoodGrad,
  [CAPABILITY_KERNELS.fusedRandomNormal]: randomNormal,
} as const;
