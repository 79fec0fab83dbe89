import type * as tf from '@tensorflow/tfjs-core';
import type { InputSpec } from './input.js';
import type { Parameter } from './parameter.js';

/**
 * What the Trainer trains: the Prob. U-Net, and every baseline. `lossTerms` must be differentiable
 * with respect to the parameters' variables; the Trainer adds the weight decay.
 */
export interface TrainableModel {
  readonly inputSpec: InputSpec;
  parameters(): Parameter[];
  /**
   * The objective to minimise on one batch (without weight decay) and its named parts for logging.
   * `seed` drives any randomness (posterior noise, dropout). Caller owns the scalars.
   */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> };
  /**
   * Optional: the objective given every annotation, labels int32 [B,A,H,W], for a model that picks
   * graders itself (an ensemble draws one per member). The Trainer then passes [B,A,H,W] batches
   * here unpicked instead of choosing one grader per image for `lossTerms`.
   */
  lossTermsAllGraders?(images: tf.Tensor4D, labels: tf.Tensor4D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> };
}
