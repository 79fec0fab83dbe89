import * as tf from '@tensorflow/tfjs-core';

/**
 * The HPU-Net's top-k loss mask (dm `geco_utils.ce_loss`, not deterministic): k = ⌊B·H·W·share⌋
 * pixels of the batch drawn without replacement with probability ∝ their cross-entropy, as the k
 * largest log CE + Gumbel noise (from `seed`); ignore pixels (`valid` 0) never. A constant for the
 * gradient: it is built inside a custom gradient whose gradient is zero, so no op without a
 * gradient (TopK) is differentiated.
 * @param crossEntropy [B,H,W] per-pixel CE (0 at ignore pixels)
 * @param valid [B,H,W] 1 where the label counts, else 0
 * @returns [B,H,W] float32 of 0 and 1; caller owns it.
 */
export function topKMask(crossEntropy: tf.Tensor3D, valid: tf.Tensor3D, share: number, seed: number): tf.Tensor3D {
  const k = Math.max(1, Math.floor(crossEntropy.size * share));
  const op = tf.customGrad(((xe: tf.Tensor) => ({
    value: tf.tidy(() => {
      const u = tf.randomUniform(xe.shape, 0, 1, 'float32', seed);
      const gumbel = tf.neg(tf.log(tf.add(tf.neg(tf.log(tf.add(u, 1e-20))), 1e-20)));
      const score = tf.where(tf.cast(valid, 'bool'), tf.add(tf.log(xe), gumbel), tf.fill(xe.shape, -Infinity));
      const threshold = tf.slice(tf.topk(tf.reshape(score, [-1]), k).values, [k - 1], [1]);
      // Ties at the threshold may add a few pixels; an all-invalid tail (−∞) is masked by `valid`.
      return tf.mul(tf.cast(tf.greaterEqual(score, threshold), 'float32'), valid);
    }),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
  return tf.tidy('probunet/top-k-mask', () => op(crossEntropy) as tf.Tensor3D);
}
