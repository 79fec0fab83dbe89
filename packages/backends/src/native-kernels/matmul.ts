import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { ACTIVATIONS } from './activations.js';
import { isF32, type KernelArgs } from './host.js';

/** BatchMatMul and _FusedMatMul (float32; strided batches, broadcast of a single matrix). */
export function matMul(native: NativeKernels, args: KernelArgs, fused: boolean): tf.TensorInfo | null {
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
  if (k !== kb) return null; // let the host backend raise its own shape error
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
