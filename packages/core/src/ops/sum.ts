import * as tf from '@tensorflow/tfjs-core';

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
