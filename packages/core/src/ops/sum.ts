import * as tf from '@tensorflow/tfjs-core';
import { backendCapabilities, CAPABILITY_KERNELS } from './conv.js';

/**
 * The sum of many same-shaped tensors, added in groups of at most 4. One `tf.addN` over dozens of
 * tensors binds every input to one kernel, which webgpu in compatibility mode rejects (at most 8
 * storage buffers per shader stage): the pipeline is invalid and the result silently wrong.
 * Caller owns the result.
 */
export function sumAll(tensors: readonly tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    let level = [...tensors];
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += 4) {
        const group = level.slice(i, i + 4);
        next.push(group.length === 1 ? group[0]! : tf.addN(group));
      }
      level = next;
    }
    return tf.clone(level[0]!);
  });
}

/**
 * Σ x² over all the tensors' values, as a float32 scalar (caller owns it). One kernel call where the
 * backend has `ProbunetSumSquares` (a gradient norm over a model's ~100 parameters was ~300 Square,
 * Sum and AddN calls); a square, a sum and `sumAll` elsewhere. Not differentiable: for values
 * read (norms) and for forward passes of ops that bring their own gradient.
 */
export function sumOfSquares(tensors: readonly tf.Tensor[]): tf.Scalar {
  if (tensors.length > 0 && tensors.every((t) => t.dtype === 'float32') && backendCapabilities().fusedSumSquares) {
    return tf.engine().runKernel(CAPABILITY_KERNELS.fusedSumSquares, tensors as unknown as tf.NamedTensorMap, {}) as tf.Scalar;
  }
  return tf.tidy(() => sumAll(tensors.map((t) => tf.sum(tf.square(t))))) as tf.Scalar;
}
