import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '@probunet/core';

/**
 * GECO's Lagrange multiplier λ (Rezende & Viola 2018, "Taming VAEs"), built as the HPU-Net's code
 * builds it (snt.get_lagrange_multiplier: initial value 1, its gradient scaled by −rate, no clipping):
 * a trainable scalar whose gradient is flipped, so the same optimiser step that minimises
 * λ·constraint + KL in the weights ascends in λ — λ grows while the reconstruction misses its target
 * and shrinks once it meets it.
 *
 * Because λ is an ordinary parameter, the state GECO adds lives where the weights live: the Trainer's
 * Adam updates it, checkpoints save it and its Adam moments (a resumed run continues exactly), and
 * a data-parallel gradient source averages its gradient like any other (−rate · the batch's mean
 * constraint, the same as one worker on the whole batch).
 */
export class LagrangeMultiplier {
  readonly variable: tf.Variable<tf.Rank.R0>;
  private readonly ascend: (x: tf.Scalar) => tf.Scalar;

  constructor(readonly rate: number) {
    this.variable = tf.tidy(() => tf.variable(tf.scalar(1), true));
    const op = (x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.mul(dy, -rate) });
    this.ascend = tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Scalar) => tf.Scalar;
  }

  /** λ, with the ascent gradient. Caller owns it. */
  value(): tf.Scalar {
    return tf.tidy('probunet/geco-multiplier', () => this.ascend(this.variable));
  }

  parameters(prefix: string): Parameter[] {
    return [{ name: `${prefix}/lagrangeMultiplier`, variable: this.variable, weightDecay: false }];
  }

  dispose(): void {
    this.variable.dispose();
  }
}
